// Baseline child process: echoes each IPC message back (JSON parsed and re-encoded, like a tool would).
process.on("message", (json) => process.send(JSON.stringify(JSON.parse(json))));
