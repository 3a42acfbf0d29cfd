/**
 * The compute worker's handlers of the #/architecture page: the zoo's models
 * and, for one model or layer pattern, Stride's `summary` (one forward of a
 * zero image at the input shape, so every shape, count and receptive field is
 * the one the model really has).
 */
import { createModel, getModelSpec, models, summary, type ModelSummary } from 'stride';

export interface ZooEntry {
  name: string;
  description: string;
  inputShape: number[];
}

export interface ArchitectureRequest {
  /** A registered model name or a layer pattern. */
  model: string;
  /** [C, H, W]; the model's own when absent. */
  input?: number[];
}

export interface ArchitectureResult {
  description: string;
  summary: ModelSummary;
}

function architectureModels(): ZooEntry[] {
  return Object.entries(models).map(([name, spec]) => ({ name, description: spec.description, inputShape: [...spec.inputShape] }));
}

/** The last summary, so switching back and forth between views does not re-run a large model. */
let cached: { key: string; result: ArchitectureResult } | null = null;

function architectureSummary(req: ArchitectureRequest): ArchitectureResult {
  const key = JSON.stringify(req);
  if (cached?.key === key) return cached.result;
  // Drop the previous model before building the next (VGG-16's weights alone are 553 MB).
  cached = null;
  const spec = getModelSpec(req.model);
  const input = req.input ?? [...spec.inputShape];
  const model = createModel(req.model, { inputShape: input });
  const result = { description: spec.description, summary: summary(model, input, { name: req.model }) };
  cached = { key, result };
  return result;
}

export const architectureHandlers = { architectureModels, architectureSummary };
