import { expect, test } from "vitest";
import { WardenError } from "../runtime/errors.ts";

test("errors carry a stable code", () => {
  expect(new WardenError("USAGE", "x").toJSON()).toEqual({ code: "USAGE", message: "x" });
});
