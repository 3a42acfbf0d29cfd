/** The compute worker's handlers of the #/kernels page. */
export const kernelsHandlers = {};
