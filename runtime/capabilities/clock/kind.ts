// The clock kind's definition: its host side, its policy entry (`clock: { rights, resolution }`) and its words.
import { z } from "zod";
import { rightsOf, strict } from "../../policy/fields.ts";
import { defineKind } from "../kind.ts";
import { CLOCK_RESOLUTIONS, CLOCK_RIGHTS, createClockKind, DEFAULT_RESOLUTION_MS } from "./index.ts";

const RESOLUTION_NAMES = Object.keys(CLOCK_RESOLUTIONS) as [string, ...string[]];

const entry = strict(
  {
    rights: rightsOf("clock", CLOCK_RIGHTS).optional().describe("Default: read and sleep."),
    resolution: z
      .enum(RESOLUTION_NAMES, { error: () => `valid resolutions: ${RESOLUTION_NAMES.join(", ")}` })
      .optional()
      .describe("Readings are rounded to this; default 100ms."),
  },
  "a clock grant",
);

export const clock = defineKind({
  name: "clock",
  rights: CLOCK_RIGHTS,
  words: "read the clock or sleep",
  exampleScope: "",
  policy: {
    schema: entry,
    grant: (entry) => ({
      rights: CLOCK_RIGHTS.filter((right) => (entry.rights ?? CLOCK_RIGHTS).includes(right)),
      scope: {
        resolutionMs:
          entry.resolution === undefined ? DEFAULT_RESOLUTION_MS : CLOCK_RESOLUTIONS[entry.resolution]!,
      },
    }),
  },
  create: () => createClockKind(),
});
