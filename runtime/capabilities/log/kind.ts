// The log kind's definition: its host side, its policy entry (`log: { rights }`) and its words.
import { rightsOf, strict } from "../../policy/fields.ts";
import { defineKind } from "../kind.ts";
import { createLogKind, DEFAULT_MAX_BYTES, LOG_RIGHTS, type LogSink } from "./index.ts";

const entry = strict({ rights: rightsOf("log", LOG_RIGHTS).optional() }, "a log grant");

export const log = defineKind({
  name: "log",
  rights: LOG_RIGHTS,
  words: "write log lines",
  exampleScope: "",
  policy: {
    schema: entry,
    grant: (entry) => ({
      rights: LOG_RIGHTS.filter((right) => (entry.rights ?? LOG_RIGHTS).includes(right)),
      scope: { maxBytes: DEFAULT_MAX_BYTES },
    }),
  },
  create: (services: { log: LogSink }) => createLogKind(services.log),
});
