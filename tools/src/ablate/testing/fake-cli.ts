/**
 * The ablation CLI with the fake executor in place of the seg CLI, so the runner's tests can
 * start several real processes of it (shards) on tiny, instant cells: everything but the training
 * is the code that runs in use.
 */
import { hideBin } from 'yargs/helpers';
import { runCli } from '@gpl/engine';
import { main } from '../main';
import { fakeExecutor } from './fake-executor';

runCli((args) => main(args, { executor: fakeExecutor(), checkSegFlags: false }), hideBin(process.argv));
