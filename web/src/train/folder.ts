/**
 * A folder of images the user opens, read as torchvision's ImageFolder reads
 * one: one sub-folder per class, classes in sorted order (a label is the
 * class's index there), a class's images the .png, .jpg and .jpeg files under
 * its folder (sub-folders included, sorted by path). Two layouts:
 *
 * - `<folder>/train/<class>/*` and `<folder>/test/<class>/*`: the split is on disk;
 * - `<folder>/<class>/*`: one set, split into train and test by a seeded,
 *   stratified fraction (in the worker, which draws it).
 *
 * Pure functions of the file paths (no Stride, no DOM): the page lists the
 * classes as soon as a folder is opened, the worker groups the bytes it gets.
 */

/** What a folder holds, before any image is decoded. */
export interface FolderListing {
  /** The opened folder's name (the first part of every path). */
  name: string;
  layout: 'train-test' | 'classes';
  /** Class names, sorted; a label is an index into it. */
  classNames: string[];
  /** Index into the paths given, and class, of each training image (all images in the 'classes' layout). */
  train: { index: number; label: number }[];
  /** The same for the test images ('train-test' layout only; empty otherwise). */
  test: { index: number; label: number }[];
  /** Files that are not images or not inside a class folder (ignored), for the page to mention. */
  ignored: number;
}

const IMAGE_FILE = /\.(png|jpe?g)$/i;

/** Splits a relative path (`a/b/c.png`, `\` taken as `/` too) into its parts, empty parts dropped. */
function parts(path: string): string[] {
  return path.replace(/\\/g, '/').split('/').filter((p) => p !== '' && p !== '.');
}

/**
 * Groups `paths` (relative paths as a folder upload gives them, each starting
 * with the opened folder's name) into classes and splits. Throws an Error
 * saying what the folder should look like when it holds no class folder with
 * images, or when a train/test layout's two sides name different classes.
 */
export function listFolder(paths: readonly string[]): FolderListing {
  if (paths.length === 0) throw new Error('the folder is empty: open a folder with one sub-folder of images per class (e.g. cats/*.png, dogs/*.png)');
  const split = paths.map(parts);
  // Paths from a folder upload all start with the folder's name; dropped files may not share one.
  const first = split[0][0];
  const rooted = split.every((p) => p.length > 1 && p[0] === first);
  const rel = rooted ? split.map((p) => p.slice(1)) : split;
  const name = rooted ? first : 'the dropped files';
  const dirs = new Set(rel.filter((p) => p.length > 1).map((p) => p[0].toLowerCase()));
  const layout: FolderListing['layout'] = dirs.has('train') && dirs.has('test') ? 'train-test' : 'classes';
  let ignored = 0;
  /** Images of one set: [class name, path, index], from paths below `prefix` (the class is the next part). */
  const collect = (keep: (p: string[]) => number | null) => {
    const out: { cls: string; path: string; index: number }[] = [];
    rel.forEach((p, index) => {
      const at = keep(p);
      if (at === null) return;
      // A class folder then a file: the file is p[at + 1 ..], an image by its name.
      if (p.length < at + 2 || !IMAGE_FILE.test(p[p.length - 1])) {
        ignored++;
        return;
      }
      out.push({ cls: p[at], path: p.join('/'), index });
    });
    return out;
  };
  let trainFiles: { cls: string; path: string; index: number }[];
  let testFiles: { cls: string; path: string; index: number }[] = [];
  if (layout === 'train-test') {
    const side = (s: string) => (p: string[]) => {
      if (p[0].toLowerCase() === s) return 1;
      if (p[0].toLowerCase() !== (s === 'train' ? 'test' : 'train')) ignored++;
      return null;
    };
    trainFiles = collect(side('train'));
    testFiles = collect(side('test'));
  } else {
    trainFiles = collect(() => 0);
  }
  const classNames = [...new Set(trainFiles.map((f) => f.cls))].sort();
  if (classNames.length === 0) {
    throw new Error(
      `${name} has no class folders of images: put each class's images (.png, .jpg) in a sub-folder named after the class, ` +
        'e.g. cats/1.png and dogs/1.png, or train/cats/1.png and test/cats/2.png',
    );
  }
  if (classNames.length < 2) throw new Error(`${name} has one class folder (${classNames[0]}): a classifier needs at least two classes, one sub-folder of images each`);
  if (layout === 'train-test') {
    const unknown = [...new Set(testFiles.map((f) => f.cls))].filter((c) => !classNames.includes(c));
    if (unknown.length > 0) throw new Error(`${name}/test has class folders that ${name}/train lacks: ${unknown.join(', ')}; both must hold the same classes`);
    if (testFiles.length === 0) throw new Error(`${name}/test holds no images in class folders; put them in test/<class>/`);
  }
  const order = (files: typeof trainFiles) =>
    files
      .map((f) => ({ ...f, label: classNames.indexOf(f.cls) }))
      .sort((a, b) => a.label - b.label || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .map((f) => ({ index: f.index, label: f.label }));
  return { name, layout, classNames, train: order(trainFiles), test: order(testFiles), ignored };
}

/** Images per class of a set. */
export function classCounts(items: readonly { label: number }[], classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const it of items) counts[it.label]++;
  return counts;
}

/**
 * Parses an input shape written CxHxW (e.g. 3x32x32): C 1 (grey) or 3 (RGB),
 * H and W from 8 to 256. Returns the shape, or an Error saying what to write.
 */
export function parseShape(text: string): [number, number, number] | Error {
  const m = /^\s*(\d+)\s*[x×]\s*(\d+)\s*[x×]\s*(\d+)\s*$/i.exec(text);
  if (!m) return new Error(`write the input shape as channels x height x width, e.g. 3x32x32 (got '${text}')`);
  const [c, h, w] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (c !== 1 && c !== 3) return new Error(`the input shape's channels must be 1 (grey) or 3 (RGB), e.g. 3x32x32; got ${c}`);
  if (h < 8 || w < 8 || h > 256 || w > 256) return new Error(`the input shape's height and width must be from 8 to 256 pixels, e.g. 3x32x32; got ${h}x${w}`);
  return [c, h, w];
}
