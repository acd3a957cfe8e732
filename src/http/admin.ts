/** Ops endpoints; they need no client key. */
import { Elysia } from "elysia";

export const admin = new Elysia({ name: "admin" }).get("/healthz", () => Response.json({ status: "ok" }));
