/** The compute worker's handlers of the #/architecture page. */
export const architectureHandlers = {};
