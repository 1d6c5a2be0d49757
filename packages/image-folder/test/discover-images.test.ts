import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { discoverImages } from '@rxfit/image-folder/pipeline';
import { compareCodePoints, subsetRange } from '../src/discover-images.js';
import { makeTree } from './make-tree.js';

describe('discoverImages', () => {
  it('sorts classes and files by code point, walks nested folders, ignores non-images', async () => {
    const t = await makeTree([
      'cats/b.png',
      'cats/B.PNG',
      'cats/a10.png',
      'cats/a2.png',
      'cats/sub/z.png',
      'cats/sub-x/y.png',
      'Dogs/d.jpeg',
      'dogs/e.webp',
      'dogs/f.gif',
    ]);
    try {
      await writeFile(join(t.root, 'cats', 'notes.txt'), 'not an image');
      await writeFile(join(t.root, 'README.md'), 'not a class');
      const d = await discoverImages(t.root);
      assert.deepEqual(d.classNames, ['Dogs', 'cats', 'dogs']);
      assert.deepEqual(d.classIndices, { Dogs: 0, cats: 1, dogs: 2 });
      // Keras sorts walk roots as path strings: 'cats' < 'cats/sub' < 'cats/sub-x' (< 'cats/sub/deeper').
      assert.deepEqual(d.filenames, [
        'Dogs/d.jpeg',
        'cats/B.PNG',
        'cats/a10.png',
        'cats/a2.png',
        'cats/b.png',
        'cats/sub/z.png',
        'cats/sub-x/y.png',
        'dogs/e.webp',
        'dogs/f.gif',
      ]);
      assert.deepEqual([...d.classes], [0, 1, 1, 1, 1, 1, 1, 2, 2]);
      assert.equal(d.description, 'Found 9 images belonging to 3 classes.');
    } finally {
      await t.cleanup();
    }
  });

  it('orders walk roots exactly like Python: sorted by full path string', () => {
    const roots = ['c/sub', 'c', 'c/sub-x', 'c/sub/deeper'].sort(compareCodePoints);
    assert.deepEqual(roots, ['c', 'c/sub', 'c/sub-x', 'c/sub/deeper']);
    assert.ok(compareCodePoints('\u{1F600}', '\uFFFF') > 0); // astral after BMP, unlike UTF-16 order
    assert.ok('\u{1F600}' < '\uFFFF'); // (what plain JS comparison would say)
  });

  it('uses explicit classes in the given order and skips other folders', async () => {
    const t = await makeTree(['a/1.png', 'b/1.png', 'b/2.png', 'c/1.png']);
    try {
      const d = await discoverImages(t.root, { classes: ['c', 'a'] });
      assert.deepEqual(d.classIndices, { c: 0, a: 1 });
      assert.deepEqual(d.filenames, ['c/1.png', 'a/1.png']);
      await assert.rejects(
        discoverImages(t.root, { classes: ['a', 'nope'] }),
        /class folder ".*nope" does not exist/,
      );
    } finally {
      await t.cleanup();
    }
  });

  it('validation split: validation = first trunc(v·n) files of each class, training = the rest', async () => {
    const files = [];
    for (let i = 0; i < 7; i++) files.push(`a/${i}.png`);
    for (let i = 0; i < 3; i++) files.push(`b/${i}.png`);
    const t = await makeTree(files);
    try {
      const val = await discoverImages(t.root, { validationSplit: 0.3, subset: 'validation' });
      const train = await discoverImages(t.root, { validationSplit: 0.3, subset: 'training' });
      assert.deepEqual(val.filenames, ['a/0.png', 'a/1.png']); // trunc(2.1) = 2, trunc(0.9) = 0
      assert.deepEqual(train.filenames, [
        'a/2.png',
        'a/3.png',
        'a/4.png',
        'a/5.png',
        'a/6.png',
        'b/0.png',
        'b/1.png',
        'b/2.png',
      ]);
      const all = await discoverImages(t.root);
      assert.deepEqual([...val.filenames, ...train.filenames].sort(), [...all.filenames].sort());
      assert.deepEqual(subsetRange(10, 0.25, 'validation'), [0, 2]);
      assert.deepEqual(subsetRange(10, 0.25, 'training'), [2, 10]);
      assert.deepEqual(subsetRange(10, 0.25, null), [0, 10]);
    } finally {
      await t.cleanup();
    }
  });

  it('followLinks: symlinked sub-folders are walked only when asked; a link cycle does not hang', async () => {
    const t = await makeTree(['a/1.png', 'elsewhere/x.png', 'elsewhere/y.png']);
    try {
      await symlink(join(t.root, 'elsewhere'), join(t.root, 'a', 'linked'));
      await symlink(join(t.root, 'a'), join(t.root, 'a', 'loop'));
      const no = await discoverImages(t.root, { classes: ['a'] });
      assert.deepEqual(no.filenames, ['a/1.png']);
      const yes = await discoverImages(t.root, { classes: ['a'], followLinks: true });
      assert.deepEqual(yes.filenames, ['a/1.png', 'a/linked/x.png', 'a/linked/y.png']);
    } finally {
      await t.cleanup();
    }
  });

  it('a symlinked class folder is a class (Keras uses isdir)', async () => {
    const t = await makeTree(['store/cats/1.png']);
    try {
      await mkdir(join(t.root, 'data'));
      await symlink(join(t.root, 'store', 'cats'), join(t.root, 'data', 'cats'));
      const d = await discoverImages(join(t.root, 'data'));
      assert.deepEqual(d.filenames, ['cats/1.png']);
    } finally {
      await t.cleanup();
    }
  });

  it('errors name the folder: missing, empty, no class folders, class without images', async () => {
    const t = await makeTree(['a/1.png', 'b/readme.txt'], ['empty', 'flat']);
    try {
      await writeFile(join(t.root, 'flat', 'x.png'), 'x');
      await assert.rejects(
        discoverImages(join(t.root, 'missing')),
        /directory ".*missing" does not exist/,
      );
      await assert.rejects(discoverImages(join(t.root, 'empty')), /no class folders in ".*empty"/);
      await assert.rejects(discoverImages(join(t.root, 'flat')), /no class folders in ".*flat"/);
      await assert.rejects(discoverImages(t.root), /class folder ".*[\\/]b" contains no images/);
      const keras = await discoverImages(t.root, { allowEmptyClasses: true, classes: ['a', 'b'] });
      assert.equal(keras.description, 'Found 1 images belonging to 2 classes.');
    } finally {
      await t.cleanup();
    }
  });
});
