// The tfjs-core CommonJS bundle registers no gradients; the tfjs-layers bundle registers the
// full stock set when it loads. Load it before anything here overrides a gradient, so that
// ours replace the stock ones and not the other way round.
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
