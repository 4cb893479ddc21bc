import { getEventListeners } from 'node:events';
import { childSignal } from '../../src/app/background/child-signal';

describe('a background run’s child signal', () => {
  it('aborts when its parent does, with the parent’s reason', () => {
    const parent = new AbortController();
    const child = childSignal(parent.signal, 60_000);
    parent.abort(new Error('shutting down'));
    expect(child.signal.aborted).toBe(true);
    expect((child.signal.reason as Error).message).toBe('shutting down');
    child.release();
  });

  it('is aborted at once under an aborted parent', () => {
    const parent = new AbortController();
    parent.abort(new Error('gone'));
    expect(childSignal(parent.signal, 60_000).signal.aborted).toBe(true);
  });

  it('aborts with a TimeoutError after its time', async () => {
    const child = childSignal(new AbortController().signal, 5);
    await new Promise((resolve) => child.signal.addEventListener('abort', resolve));
    expect((child.signal.reason as DOMException).name).toBe('TimeoutError');
  });

  it('leaves nothing on the process-long parent once released, however many runs it served', () => {
    const parent = new AbortController();
    for (let i = 0; i < 10_000; i++) childSignal(parent.signal, 60_000).release();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
  });

  it('after release, neither the parent nor its time aborts it', async () => {
    const parent = new AbortController();
    const child = childSignal(parent.signal, 5);
    child.release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    parent.abort();
    expect(child.signal.aborted).toBe(false);
  });
});
