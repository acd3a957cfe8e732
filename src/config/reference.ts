/**
 * The config file reference, generated from the TypeBox schema's descriptions and defaults, so
 * the README cannot drift from the code: `azure-proxy check --reference` prints it, and a test
 * requires the README's copy to match.
 */
import type { TSchema } from "@sinclair/typebox";
import { ConfigSchema } from "./schema.ts";

interface Node extends TSchema {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, Node>;
  items?: Node;
  anyOf?: Node[];
  patternProperties?: Record<string, Node>;
  const?: unknown;
  minimum?: number;
}

export function configReference(): string {
  const rows: string[] = ["| field | type | default | meaning |", "|---|---|---|---|"];
  walk(ConfigSchema as Node, "", rows, new Set((ConfigSchema as Node & { required?: string[] }).required ?? []));
  return rows.join("\n");
}

function walk(node: Node, path: string, rows: string[], required: Set<string>): void {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const field = path ? `${path}.${name}` : name;
    const mark = required.has(name) && child.default === undefined ? " (required)" : "";
    rows.push(
      `| \`${field}\` | ${typeOf(child)} | ${child.default === undefined || isEmptyObject(child.default) ? "" : `\`${JSON.stringify(child.default)}\``} | ${(child.description ?? "").replaceAll("|", "\\|")}${mark} |`,
    );
    const childRequired = new Set((child as Node & { required?: string[] }).required ?? []);
    if (child.properties) walk(child, field, rows, childRequired);
    if (child.type === "array" && child.items?.properties)
      walk(child.items, `${field}[]`, rows, new Set((child.items as Node & { required?: string[] }).required ?? []));
    if (child.anyOf)
      for (const variant of child.anyOf)
        if (variant.properties) walk(variant, field, rows, new Set((variant as Node & { required?: string[] }).required ?? []));
  }
}

function typeOf(node: Node): string {
  if (node.const !== undefined) return `\`${JSON.stringify(node.const)}\``;
  if (node.anyOf) return node.anyOf.map(typeOf).join(" or ");
  if (node.type === "array") return `list of ${typeOf(node.items!)}`;
  if (node.patternProperties) return "map";
  if (node.type === "integer") return node.minimum !== undefined ? `integer ≥ ${node.minimum}` : "integer";
  return node.type ?? "value";
}

function isEmptyObject(value: unknown): boolean {
  return value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0;
}
