// Example tool for the web policy: today's temperature at a place, from one public API (Open-Meteo).
import { defineTool, z } from "warden/sdk";

export default defineTool({
  name: "weather",
  description: "Current temperature at a latitude and longitude, from api.open-meteo.com.",
  input: z.object({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) }),
  output: z.object({ celsius: z.number() }),
  capabilities: { api: { type: "net", rights: ["GET"] } },
  async run({ latitude, longitude }, caps) {
    const url = `https://api.open-meteo.com/v1/forecast?latitude=${latitude}&longitude=${longitude}&current=temperature_2m`;
    const response = await caps.api.fetch(url);
    const body = (await response.json()) as { current: { temperature_2m: number } };
    return { celsius: body.current.temperature_2m };
  },
});
