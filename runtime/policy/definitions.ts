// What only a tool's own definition can tell about a policy: that each key is the tool's defineTool name and
// each grant is for a capability the tool declares, with the declared type. `policy check` loads each tool
// (without granting or calling it) so that "valid" means `tool run` will not refuse the policy for these.
import { WardenError } from "../errors.ts";
import type { Runtime } from "../runtime.ts";
import type { CompiledPolicy } from "./compile.ts";

/** One line per problem, `tools.NAME...: what is wrong`, in the order of the policy. */
export async function checkDefinitions(runtime: Runtime, policy: CompiledPolicy): Promise<string[]> {
  const problems: string[] = [];
  for (const tool of policy.tools.values()) {
    let definition: Awaited<ReturnType<Runtime["inspectTool"]>>["definition"];
    try {
      ({ definition } = await runtime.inspectTool(tool.source, { backend: tool.backend }));
    } catch (error) {
      if (!(error instanceof WardenError)) throw error;
      problems.push(`tools.${tool.name}.source: the tool does not load (${error.code}: ${error.message})`);
      continue;
    }
    if (definition.name !== tool.name) {
      problems.push(
        `tools.${tool.name}: ${tool.sourceShown} defines itself as "${definition.name}"; a policy names each tool by its defineTool name, so tool run refuses this entry`,
      );
    }
    const declared = definition.capabilities;
    for (const grant of tool.grants) {
      const cap = Object.hasOwn(declared, grant.handle) ? declared[grant.handle] : undefined;
      const where = `tools.${tool.name}.grants.${grant.handle}`;
      const names = Object.keys(declared).join(", ") || "none";
      if (!cap) {
        problems.push(
          `${where}: the tool declares no capability "${grant.handle}" (it declares: ${names}), so tool run refuses this grant`,
        );
      } else if (cap.type !== grant.kind.kind) {
        problems.push(`${where}: the tool declares "${grant.handle}" as ${cap.type}, not ${grant.kind.kind}`);
      }
    }
    for (const [name, cap] of Object.entries(declared)) {
      if (!tool.grants.some((g) => g.handle === name)) {
        problems.push(
          `tools.${tool.name}.grants: the tool declares capability "${name}" (${cap.type}) and the policy grants none, so tool run refuses to load it`,
        );
      }
    }
  }
  return problems;
}
