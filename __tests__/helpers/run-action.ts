/** The GitHub runner emulation lives with the simulated environment (the load benchmark uses it too). */
export { actionDefaults, parseOutputs, runAction, type ActionRun } from '../../sim/github-runner.js';
