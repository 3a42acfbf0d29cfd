/** The compute worker's handlers of the #/convolution page. */
export const convolutionHandlers = {};
