import { expect, test } from "bun:test";
import { InFlight } from "./in-flight.ts";

test("cutAll cuts every call, also after one whose cut throws, and returns what was thrown", () => {
  const inFlight = new InFlight();
  const cut: string[] = [];
  inFlight.add(() => void cut.push("first"));
  inFlight.add(() => {
    throw new Error("controller is closed");
  });
  const done = inFlight.add(() => void cut.push("unregistered"));
  inFlight.add(() => void cut.push("last"));
  done();
  const errors = inFlight.cutAll();
  expect(cut).toEqual(["first", "last"]);
  expect(errors.map((e) => (e as Error).message)).toEqual(["controller is closed"]);
  expect(inFlight.size).toBe(3);
});
