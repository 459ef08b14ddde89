// Draws bench figures as an SVG a person can read at a glance: one panel per metric, one bar per subject.
import type { GoalResult } from "./goals.ts";
import type { Figure } from "./harness.ts";

const WIDTH = 860;
const BAR = 18;
const LABEL = 230;
const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function format(value: number, unit: string): string {
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

/** Bars are on a log scale, because the subjects differ by orders of magnitude; the numbers are printed on each bar. */
export function chart(figures: Figure[], metrics: string[], title: string, goals: GoalResult[] = []): string {
  const parts: string[] = [];
  let y = 40;
  if (goals.length > 0) {
    parts.push(`<text x="10" y="${y}" font-weight="bold">Goals (issue 16), ratios from this run</text>`);
    y += 18;
    for (const g of goals) {
      const value = Number.isNaN(g.value) ? "-" : g.value.toFixed(2);
      const colour = g.status === "met" ? "#2f855a" : g.status === "MISSED" ? "#c53030" : "#718096";
      parts.push(
        `<text x="10" y="${y}">${xml(g.goal)}</text>`,
        `<text x="${WIDTH - 290}" y="${y}" fill="${colour}">${xml(`${value} (goal ${g.target}; was ${g.was}) ${g.status}`)}</text>`,
      );
      y += 16;
    }
    y += 22;
  }
  for (const metric of metrics) {
    const rows = figures.filter((f) => f.metric === metric && Number.isFinite(f.median) && f.median > 0);
    if (rows.length === 0) continue;
    const max = Math.max(...rows.map((r) => r.median));
    const min = Math.min(...rows.map((r) => r.median));
    const lo = Math.log10(min) - 0.3;
    const span = Math.max(0.5, Math.log10(max) - lo);
    parts.push(
      `<text x="10" y="${y}" font-weight="bold">${xml(metric)} (median; shorter is better${rows[0]!.unit === "calls/s" ? ", except calls/s" : ""})</text>`,
    );
    y += 10;
    for (const row of rows) {
      const width = ((Math.log10(row.median) - lo) / span) * (WIDTH - LABEL - 110);
      const fill = row.subject.startsWith("warden") ? "#2b6cb0" : "#a0aec0";
      parts.push(
        `<text x="10" y="${y + 13}">${xml(row.subject)}</text>`,
        `<rect x="${LABEL}" y="${y}" width="${Math.max(2, width).toFixed(1)}" height="${BAR - 4}" fill="${fill}"/>`,
        `<text x="${LABEL + Math.max(2, width) + 6}" y="${y + 13}">${xml(format(row.median, row.unit))}</text>`,
      );
      y += BAR;
    }
    y += 22;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${WIDTH}" height="${y}" font-family="sans-serif" font-size="12">
<title>${xml(title)}</title>
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="20" font-size="15" font-weight="bold">${xml(title)}</text>
${parts.join("\n")}
</svg>
`;
}
