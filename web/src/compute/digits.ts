/** The compute worker's handlers of the #/digits page. */
export const digitsHandlers = {};
