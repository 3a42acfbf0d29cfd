/** Replaces the block `name` of README.md with `markdown`, or writes it to bench/<fallback> under `title`; returns where it went. */
export function writeReadmeBlock(name: string, markdown: string, options: { fallback: string; title: string }): string;
