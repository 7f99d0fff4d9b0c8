/** A model, option or tokenizer that a GGUF file for llama.cpp cannot represent; the message names which and why. */
export class ExportRefusal extends Error {
  override name = 'ExportRefusal';
}
