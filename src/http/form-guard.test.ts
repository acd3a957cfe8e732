import { expect, test } from "bun:test";
import type { Failure } from "../lib/failure.ts";
import { refuseFormBody } from "./form-guard.ts";

const post = (contentType?: string, method = "POST") =>
  new Request("http://h/v1/chat/completions", { method, headers: contentType ? { "content-type": contentType } : {} });
const refused = (request: Request, multipart = false) => {
  try {
    refuseFormBody(request, multipart);
    return null;
  } catch (error) {
    return (error as Failure).kind;
  }
};

test("the three preflight-free types are refused on POST, whatever their case and parameters; JSON and other types pass", () => {
  for (const type of ["text/plain", "Text/Plain; charset=UTF-8", "application/x-www-form-urlencoded", " multipart/form-data; boundary=x"]) {
    expect(refused(post(type))).toBe("unsupported_media_type");
  }
  for (const type of [undefined, "application/json", "application/json; charset=utf-8", "application/octet-stream"]) expect(refused(post(type))).toBeNull();
  expect(refused(post("text/plain", "DELETE"))).toBeNull();
});

test("an upload route takes multipart/form-data, and still not the other two", () => {
  expect(refused(post("multipart/form-data; boundary=x"), true)).toBeNull();
  expect(refused(post("text/plain"), true)).toBe("unsupported_media_type");
  expect(refused(post("application/x-www-form-urlencoded"), true)).toBe("unsupported_media_type");
});
