// Reports are Markdown written by the app, but they quote text from incidents and the
// audit log: rendered with `marked` and always sanitised (DOMPurify) before they reach
// the DOM, since the webview can call the app's commands.
import DOMPurify from "dompurify";
import { marked } from "marked";

/** Markdown → safe HTML; `![x](file.svg)` images are replaced by the inline SVGs given. */
export function renderReport(markdown: string, charts: [string, string][]): string {
  const svgs = new Map(charts);
  const withCharts = markdown.replace(/!\[([^\]]*)\]\(([^)]+\.svg)\)/g, (_m, alt: string, file: string) => {
    const svg = svgs.get(file);
    return svg ? `\n<figure class="chart" aria-label="${alt.replace(/"/g, "")}">${svg}</figure>\n` : `*(${alt}: chart missing)*`;
  });
  const html = marked.parse(withCharts, { async: false }) as string;
  // No links: a click would navigate the app window away from the app.
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true, svg: true, svgFilters: true }, FORBID_TAGS: ["a"] });
}
