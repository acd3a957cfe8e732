import { expect, test } from "bun:test";
import { Listeners } from "./listeners.ts";

/** A listener whose connections close when the test says so. */
function listener(name: string) {
  let close = () => {};
  const closed = new Promise<void>((resolve) => {
    close = resolve;
  });
  const calls: Array<boolean | undefined> = [];
  return {
    name,
    calls,
    close,
    stop(closeActive?: boolean) {
      calls.push(closeActive);
      return closed;
    },
  };
}

test("a retired listener is held while its connections are open and let go after; a stop reaches every open one", async () => {
  const first = listener("first");
  const listeners = new Listeners(first);
  const second = listener("second");
  listeners.replace(second);
  expect(listeners.current).toBe(second);
  // the first stops accepting at once (not cutting its connections) and stays until they close
  expect(first.calls).toEqual([false]);
  expect(listeners.open).toBe(2);

  const third = listener("third");
  listeners.replace(third);
  expect(listeners.open).toBe(3);
  first.close();
  await Bun.sleep(0);
  expect(listeners.open).toBe(2);

  const stopped = listeners.stopAll(true);
  expect(second.calls).toEqual([false, true]);
  expect(third.calls).toEqual([true]);
  second.close();
  third.close();
  await stopped;
  expect(listeners.open).toBe(1);
});

test("a listener retired before its successor exists (the port freed first) is let go the same way", async () => {
  const first = listener("first");
  const listeners = new Listeners(first);
  listeners.retire(first, true);
  expect(first.calls).toEqual([true]);
  const next = listener("next");
  listeners.current = next;
  first.close();
  await Bun.sleep(0);
  expect([listeners.current, listeners.open]).toEqual([next, 1]);
});
