// olmo serve: an OpenAI-compatible server with continuous batching (see server.ts and scheduler.ts).
export { startServer, isLoopback, type ServeOptions, type RunningServer } from './server.ts';
export { Engine, type EngineOptions } from './engine.ts';
export {
  Scheduler,
  QueueFullError,
  type SchedulerOptions,
  type SequenceRequest,
  type FinishReason as ServeFinishReason,
} from './scheduler.ts';
export { ApiError } from './protocol.ts';
