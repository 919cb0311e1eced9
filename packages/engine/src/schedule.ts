/**
 * Polynomial learning-rate decay by iteration (the paper's "poly" policy, mmseg PolyLR):
 * lr(i) = (base − min)·(1 − i/total)^power + min.
 */
export function polyLearningRate(iteration: number, total: number, base: number, power = 0.9, min = 1e-4): number {
  if (!(total > 0)) throw new RangeError(`[@gpl/engine] polyLearningRate: total iterations must be > 0, received ${total}.`);
  const progress = Math.min(Math.max(iteration, 0), total) / total;
  const floor = Math.min(min, base);
  return (base - floor) * (1 - progress) ** power + floor;
}
