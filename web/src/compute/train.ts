/** The compute worker's handlers of the #/train page. */
export const trainHandlers = {};
