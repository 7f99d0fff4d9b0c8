// Tokenizers: tokenizer.json loading, the built-in dolma2 tokenizer (OLMo 2), chat templates.
export type { DecodeOptions, DecodeStream, EncodeOptions, Tokenizer } from './types.ts';
export { ByteDecodeStream, PrefixDecodeStream } from './decode-stream.ts';
export { ByteBpe } from './bpe.ts';
export {
  CL100K_PATTERN,
  DOLMA2_EOS_ID,
  DOLMA2_PAD_ID,
  DOLMA2_SPECIAL_TOKENS,
  DOLMA2_VOCAB_SIZE,
  Dolma2Tokenizer,
  dolma2Tokenizer,
} from './dolma2.ts';
export { HfTokenizer, loadTokenizer, type HfTokenizerSource } from './hf.ts';
export {
  TULU_CHAT_TEMPLATE,
  applyChatTemplate,
  encodeChat,
  renderChatTemplate,
  type ChatMessage,
  type ChatTemplateOptions,
  type EncodedChat,
  type RenderOptions,
} from './chat.ts';
export { DEFAULT_TEMPLATE_LIMITS, TemplateLimitError, type TemplateLimits } from './template-sandbox.ts';
export { toWellFormed } from './text.ts';
export { trainByteLevelBpe, trainByteLevelBpeSync, saveTrainedTokenizer } from './train-bpe.ts';
