/**
 * Replaces the block `name` of README.md with `markdown`, or writes it to bench/<fallback> under `title`; returns where it went.
 * With `after`, a README.md without the block but with the block `after` gets it right after that one's end marker.
 */
export function writeReadmeBlock(name: string, markdown: string, options: { fallback: string; title: string; after?: string }): string;
