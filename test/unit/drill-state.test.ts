/** The drill's cleanup stack: last in, first out, on the runtime's AsyncDisposableStack or the Node 22 stand-in. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanupStack } from '../../src/gates/drill/state.ts';

async function order(): Promise<string[]> {
  const undone: string[] = [];
  {
    await using stack = cleanupStack();
    stack.defer(() => {
      undone.push('temp dir');
    });
    stack.defer(async () => {
      undone.push('target');
    });
    stack.defer(() => {
      undone.push('session');
    });
  }
  return undone;
}

describe('cleanupStack', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('undoes in reverse order when the block ends', async () => {
    expect(await order()).toEqual(['session', 'target', 'temp dir']);
  });

  it('does the same where the runtime has no AsyncDisposableStack (Node 22)', async () => {
    vi.stubGlobal('AsyncDisposableStack', undefined);
    expect(await order()).toEqual(['session', 'target', 'temp dir']);
  });
});
