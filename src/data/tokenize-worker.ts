// Worker thread of `tokenize`: builds its own tokenizer from the spec, then decodes and tokenizes the byte chunks
// it is sent (their buffers are transferred, not copied).
import { parentPort, workerData } from 'node:worker_threads';
import { resolveTokenizer, tokenizeChunk, type ByteLineChunk } from './documents.ts';

interface Init {
  tokenizer: string;
  eosId: number;
  allowSpecial: boolean;
}

const init = workerData as Init;
const tokenizer = resolveTokenizer(init.tokenizer);
const port = parentPort!;
port.on('message', (msg: { seq: number; chunk: ByteLineChunk }) => {
  try {
    const result = tokenizeChunk(msg.chunk, tokenizer, init.eosId, init.allowSpecial);
    port.postMessage({ seq: msg.seq, result }, [result.tokens.buffer as ArrayBuffer]);
  } catch (e) {
    port.postMessage({ seq: msg.seq, error: (e as Error).stack ?? String(e) });
  }
});
port.postMessage({ ready: true });
