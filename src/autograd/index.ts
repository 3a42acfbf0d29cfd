export { backward } from './backward.js';
export { gradcheck, type GradcheckOptions, type GradcheckReport, type GradcheckInputReport } from './gradcheck.js';
export { noGrad, enableGrad, isGradEnabled, record } from './tape.js';
export { detectAnomaly, isAnomalyEnabled, type AnomalyOptions } from './anomaly.js';
