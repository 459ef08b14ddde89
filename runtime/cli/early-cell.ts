// Imported first by commands.ts, for its effect: starts the cell a `warden tool run` will need before the
// rest of Warden loads, so the two start-ups overlap (see runtime/cells/prestart.ts).
import { prestartCell } from "../cells/prestart.ts";

prestartCell(process.argv.slice(2));
