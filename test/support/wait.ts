// Test helper: wait for a condition instead of sleeping a fixed time, so a busy machine slows a test, never fails it.

/** How long a condition may take before the wait counts as a hang: generous, for a loaded 2-core machine. */
export const HANG_MS = 15_000;

/** Resolves once `condition()` holds, polling every few ms; rejects naming `what` if it never does. */
export async function until(condition: () => boolean, what: string, ms = HANG_MS): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`${what}: still not true after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
