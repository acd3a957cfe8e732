import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { duplicateTopLevelKey, renameTopLevelKey, setTopLevelString } from "./json-top-level.ts";

describe("setTopLevelString", () => {
  test("replaces only the value, keeping every other byte", () => {
    const text = `{ "a" : 1e400, "model" :"old" ,"seed":9007199254740993, "x":{"model":"nested"}}`;
    expect(setTopLevelString(text, "model", "new")).toBe(`{ "a" : 1e400, "model" :"new" ,"seed":9007199254740993, "x":{"model":"nested"}}`);
  });

  test("adds the field when absent, also to an empty object", () => {
    expect(JSON.parse(setTopLevelString(`{"a":[1,{"b":"}"}]}`, "model", "m"))).toEqual({ model: "m", a: [1, { b: "}" }] });
    expect(setTopLevelString(` {  } `, "model", "m")).toBe(` {"model":"m"  } `);
  });

  test("replaces every duplicate, since readers keep the last", () => {
    expect(JSON.parse(setTopLevelString(`{"model":"a","model":"b"}`, "model", "c")).model).toBe("c");
  });

  test("keys and strings with escapes and quotes are skipped correctly", () => {
    const text = `{"m\\"odel":"\\"model\\":1","model":"x\\\\","k":"\\u0041"}`;
    const out = setTopLevelString(text, "model", "y");
    expect(JSON.parse(out)).toEqual({ ...JSON.parse(text), model: "y" });
  });

  test("property: the result parses to the input with only `model` changed", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.string(), fc.boolean(), (object, model, pretty) => {
        const text = JSON.stringify(object, null, pretty ? 2 : undefined);
        const out = setTopLevelString(text, "model", model);
        expect(JSON.parse(out)).toEqual({ ...JSON.parse(text), model });
      }),
      { numRuns: 500 },
    );
  });
});

describe("renameTopLevelKey", () => {
  test("renames the key and keeps the value's text", () => {
    expect(renameTopLevelKey(`{"max_tokens" : 1e3,"x":{"max_tokens":1}}`, "max_tokens", "max_completion_tokens")).toBe(
      `{"max_completion_tokens" : 1e3,"x":{"max_tokens":1}}`,
    );
  });

  test("leaves the body alone when the new key is already there or the old one is not", () => {
    const both = `{"max_tokens":5,"max_completion_tokens":7}`;
    expect(renameTopLevelKey(both, "max_tokens", "max_completion_tokens")).toBe(both);
    expect(renameTopLevelKey(`{"a":1}`, "max_tokens", "max_completion_tokens")).toBe(`{"a":1}`);
  });
});

describe("duplicateTopLevelKey", () => {
  test("names the first repeated top-level key, whatever its spelling in the text", () => {
    expect(duplicateTopLevelKey(`{"model":"a","stream":true,"model":"b"}`)).toBe("model");
    expect(duplicateTopLevelKey(`{"stream":false, "x":{"stream":1}, "str\\u0065am":true}`)).toBe("stream");
    expect(duplicateTopLevelKey(`{"model":"a","MODEL":"b"}`)).toBe("MODEL");
  });

  test("nested repeats and look-alike strings are not top-level duplicates", () => {
    expect(duplicateTopLevelKey(`{"a":{"b":1,"b":2},"c":["\\\\\\"a\\":1",{"a":2}],"d":"}{"}`)).toBeUndefined();
    expect(duplicateTopLevelKey(`{}`)).toBeUndefined();
  });

  test("property: agrees with counting the keys of the parsed pieces", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("a", "b", "model", 'q"', "\\"), fc.jsonValue()), { maxLength: 6 }), (pairs) => {
        const text = `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;
        const keys = pairs.map(([k]) => k);
        const expected = keys.find((k, i) => keys.indexOf(k) !== i);
        expect(duplicateTopLevelKey(text)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
