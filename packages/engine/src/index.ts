export { EXIT_CODES, NonFiniteLossError, UsageError, exitCodeOf, formatError, isExpectedError } from './errors';
export {
  RUN_NEUTRAL_FIELDS,
  configDifferences,
  discardRunFolder,
  newestRun,
  openRunFolder,
  resolveCheckpointPath,
  timestamp,
  type ResolvedCheckpoint,
  type RunFolder,
} from './run-folder';
export { sgdStep, trainableVariables, type LossTerms, type SgdContext, type StepLoss } from './sgd-step';
export { GradientNormProbe } from './gradient-probe';
export { MetricsLog, emaSmooth, writeRunPlots, type MetricPlot, type MetricsRow } from './metrics-log';
export {
  PAPER_PERCEPTUAL,
  PERCEP_ENGINES,
  PERCEP_KERNELS,
  PERCEP_LEVELS,
  PERCEP_REDUCTIONS,
  createPerceptualLoss,
  describePerceptual,
  describePerceptualEngine,
  perceptualMinimumSize,
  perceptualOption,
  type PercepLevels,
  type PerceptualFlags,
  type PerceptualOption,
} from './perceptual';
export { polyLearningRate } from './schedule';
export {
  SeededMathRandom,
  train,
  type EvalRecord,
  type FinishArgs,
  type LoopConfig,
  type LossArgs,
  type TaskData,
  type TaskSpec,
  type TrainOptions,
  type TrainResult,
} from './train-loop';
export {
  backendFromEnv,
  backendOption,
  camel,
  explainDataRoot,
  explicitFlags,
  failOnUsage,
  kebab,
  mergeFlags,
  parseBackend,
  prepareArgs,
  runCli,
  runNxTarget,
  runCliMain,
  startBackend,
  trainFlags,
  perceptualFlags,
  validateLoopConfig,
  verboseOption,
  type CliMain,
  type TrainCliConfig,
} from './cli';
export { compareTable, compareWithBaseline, formatMeanStd, meanCurve, meanStd, runVariants, writeComparison, type CompareMetric, type CompareRun, type ComparisonResult } from './compare';
export { predictImage, predictPadded, slideCoverage, slideStride, splitOutputs, windowStarts, type InferenceOptions } from './predict';
export { renderPanels, writePanels, type LegendEntry, type Panel } from './panels';
export { optionFailure, restoreModel } from './options';
