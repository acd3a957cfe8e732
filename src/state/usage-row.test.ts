import { expect, test } from "bun:test";
import { utcDay } from "./usage-row.ts";

test("utcDay names the UTC day of any moment, the newest day remembered, older days asked after it", () => {
  const day = Date.UTC(2026, 11, 1);
  expect(utcDay(day)).toBe("2026-12-01");
  expect(utcDay(day + 86_399_999)).toBe("2026-12-01");
  expect(utcDay(day + 86_400_000)).toBe("2026-12-02");
  // a report about the past does not make the next entry land on that day
  expect(utcDay(Date.UTC(2025, 0, 31, 12))).toBe("2025-01-31");
  expect(utcDay(day + 86_400_001)).toBe("2026-12-02");
  expect(utcDay(day - 1)).toBe("2026-11-30");
  expect(utcDay(day + 3 * 86_400_000)).toBe("2026-12-04");
});
