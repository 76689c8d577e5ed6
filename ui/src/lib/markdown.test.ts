// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { renderReport } from "./markdown";

describe("report rendering", () => {
  it("renders tables, inlines the charts and strips scripts", () => {
    const html = renderReport(
      "# Weekly\n\n| a | b |\n|---|---|\n| 1 | <img src=x onerror=alert(1)> |\n\n![availability](w-availability.svg)\n\n<script>alert(2)</script>",
      [["w-availability.svg", '<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>']],
    );
    expect(html).toContain("<table>");
    expect(html).toContain("<svg");
    expect(html).not.toContain("onerror");
    expect(html).not.toContain("<script");
    expect(renderReport("see http://prometheus:9090 and [x](http://y)", [])).not.toContain("<a");
  });
  it("says when a chart file is missing", () => {
    expect(renderReport("![latency](gone.svg)", [])).toContain("chart missing");
  });
});
