// Training-step benchmark: one OLMo 2 configuration (d 256, 4 layers, 4 heads, vocab 8192, sequence 256,
// batch 8, f32; SwiGLU 640) trained with full steps — forward, backward, global-norm clipping, AdamW — in
// olmo-ts and in PyTorch (torch_olmo2.py, a compact PyTorch OLMo 2 of the same shapes that ships beside the repo
// in ../shared/bench/; run with Debian's python3-torch) in the same invocation.
// Also the throughput of `olmo data tokenize` (dolma2) on generated documents.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Generator,
  backendName,
  backward,
  crossEntropy,
  numThreads,
  tensor,
  tidy,
  zeroGrad,
} from '../src/tensor/index.ts';
import { initModel, parseConfig } from '../src/models/index.ts';
import { truncatedNormalInit } from '../src/nn/index.ts';
import { AdamW, clipFactor, gradNorm } from '../src/train/optim.ts';
import { tokenize } from '../src/data/index.ts';
import type { BenchOptions, Measurement } from './run.ts';

const CFG = { d: 256, layers: 4, heads: 4, vocab: 8192, seq: 256, batch: 8, ff: 640 };
const STEPS = 10;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TORCH_SCRIPT = join(ROOT, '..', 'shared', 'bench', 'torch_olmo2.py');

function olmoTokensPerSecond(): number {
  const cfg = parseConfig({
    model_type: 'olmo2',
    hidden_size: CFG.d,
    intermediate_size: CFG.ff,
    num_hidden_layers: CFG.layers,
    num_attention_heads: CFG.heads,
    vocab_size: CFG.vocab,
    rms_norm_eps: 1e-6,
    rope_theta: 500000,
    max_position_embeddings: CFG.seq,
  });
  const model = initModel(cfg, truncatedNormalInit(new Generator(0)));
  const params = [...model.namedParameters()];
  const opt = new AdamW(
    params.map(([name, param]) => ({ name, param })),
    { lr: 3e-4, betas: [0.9, 0.95], weightDecay: 0.1 },
  );
  const gen = new Generator(1);
  const raw = Int32Array.from({ length: CFG.batch * (CFG.seq + 1) }, () => gen.int(CFG.vocab));
  const ids = new Int32Array(CFG.batch * CFG.seq);
  const targets = new Int32Array(CFG.batch * CFG.seq);
  for (let b = 0; b < CFG.batch; b++) {
    ids.set(raw.subarray(b * (CFG.seq + 1), b * (CFG.seq + 1) + CFG.seq), b * CFG.seq);
    targets.set(raw.subarray(b * (CFG.seq + 1) + 1, (b + 1) * (CFG.seq + 1)), b * CFG.seq);
  }
  const idsT = tensor(ids, [CFG.batch, CFG.seq], 'i32');
  const tgtT = tensor(targets, [CFG.batch, CFG.seq], 'i32');
  const step = () => {
    zeroGrad(model.parameters());
    tidy(() => backward(crossEntropy(model.forward(idsT).logits, tgtT).loss));
    opt.update(3e-4, clipFactor(gradNorm(model.parameters()), 1));
  };
  step();
  step();
  let best = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    for (let s = 0; s < STEPS; s++) step();
    best = Math.min(best, (performance.now() - t0) / 1000 / STEPS);
  }
  return (CFG.batch * CFG.seq) / best;
}

function torchTokensPerSecond(log: (m: string) => void): number | undefined {
  if (!existsSync(TORCH_SCRIPT)) {
    log(`PyTorch baseline skipped: ${TORCH_SCRIPT} not found`);
    return undefined;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1' };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  let best: number | undefined;
  for (let rep = 0; rep < 3; rep++) {
    const r = spawnSync(
      '/usr/bin/python3',
      [
        TORCH_SCRIPT,
        'train',
        '--d',
        '256',
        '--layers',
        '4',
        '--heads',
        '4',
        '--kv',
        '4',
        '--vocab',
        '8192',
        '--seq',
        '256',
        '--batch',
        '8',
        '--steps',
        String(STEPS),
        '--threads',
        String(numThreads()),
      ],
      { env, encoding: 'utf8' },
    );
    if (r.status !== 0) {
      log(
        `PyTorch baseline skipped: /usr/bin/python3 torch_olmo2.py failed (${(r.stderr || '').trim().split('\n').pop()}); install it with: apt-get install -y python3-torch python3-numpy libopenblas0-pthread`,
      );
      return undefined;
    }
    const tps = (JSON.parse(r.stdout.trim().split('\n').pop()!) as { tokens_per_s: number }).tokens_per_s;
    best = Math.max(best ?? 0, tps);
  }
  return best;
}

async function tokenizeTokensPerSecond(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'olmo-bench-tok-'));
  try {
    const gen = new Generator(3);
    const words = [
      'the',
      'model',
      'learns',
      'from',
      'open',
      'data',
      'and',
      'language',
      'tokens',
      'quickly',
      'while',
      'training',
      'on',
      'documents',
    ];
    const lines: string[] = [];
    for (let d = 0; d < 4000; d++) {
      const text = Array.from({ length: 200 }, () => words[gen.int(words.length)]).join(' ');
      lines.push(JSON.stringify({ id: String(d), text, source: 'bench' }));
    }
    const input = join(dir, 'docs.jsonl');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const r = await tokenize({ inputs: [input], outDir: join(dir, 'out'), tokenizer: 'dolma2' });
    return r.tokensPerSec;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(opts: BenchOptions): Promise<Measurement[]> {
  opts.log(
    `backend ${backendName()}, ${numThreads()} threads; OLMo 2 d ${CFG.d}, ${CFG.layers} layers, ${CFG.heads} heads, vocab ${CFG.vocab}, seq ${CFG.seq}, batch ${CFG.batch}, f32; best of 3×${STEPS} steps`,
  );
  const ours = olmoTokensPerSecond();
  const torch = torchTokensPerSecond(opts.log);
  const out: Measurement[] = [
    {
      name: 'train step (olmo2 d256 L4 V8192 T256 B8)',
      value: ours,
      unit: 'tokens/s',
      ...(torch ? { baseline: torch, ratio: ours / torch } : {}),
    },
  ];
  out.push({ name: 'olmo data tokenize (dolma2)', value: await tokenizeTokensPerSecond(), unit: 'tokens/s' });
  return out;
}
