//! Time-series charts as SVG strings, drawn with plotters' SVG backend: SLI against its
//! objective, error-budget burn-down with the ideal line, burn rates, latency, throughput,
//! GPU readings. The UI embeds the SVG; reports can write it to a file.

use chrono::{DateTime, Utc};
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

/// A colour, `#rrggbb`.
pub type Hex = &'static str;

/// Palette shared with the UI's status colours.
pub mod palette {
    /// Accent (first series).
    pub const ACCENT: &str = "#48c6d9";
    /// Healthy / ideal.
    pub const OK: &str = "#3fb27f";
    /// Warning / objective.
    pub const WARN: &str = "#e8b93f";
    /// Critical.
    pub const CRIT: &str = "#f0625d";
    /// Secondary series.
    pub const MUTED: &str = "#8b9aab";
}

/// One plotted line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Line {
    /// Legend text.
    pub name: String,
    /// `(unix seconds, value)`, oldest first.
    pub points: Vec<(f64, f64)>,
    /// `#rrggbb`.
    pub color: String,
    /// Dashed (guides such as the ideal burn-down).
    pub dashed: bool,
}

/// A horizontal reference line (objective, threshold).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Guide {
    /// Legend text, e.g. `objective 99.9 %`.
    pub name: String,
    /// Value.
    pub value: f64,
    /// `#rrggbb`.
    pub color: String,
}

/// A chart to draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Chart {
    /// Title.
    pub title: String,
    /// Y-axis label with unit.
    pub y_label: String,
    /// Lines.
    pub lines: Vec<Line>,
    /// Horizontal guides.
    pub guides: Vec<Guide>,
    /// Fixed y range; computed from the data when `None`.
    pub y_range: Option<(f64, f64)>,
    /// Pixel size.
    pub width: u32,
    /// Pixel size.
    pub height: u32,
    /// Dark background when true.
    pub dark: bool,
}

/// Chart failures.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// plotters failed.
    #[error("chart could not be drawn: {0}")]
    Draw(String),
}

fn rgb(hex: &str) -> RGBColor {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap_or(0x888888);
    RGBColor((v >> 16) as u8, (v >> 8) as u8, v as u8)
}

fn time_label(ts: f64, span: f64) -> String {
    let t = DateTime::<Utc>::from_timestamp(ts as i64, 0).unwrap_or_default();
    if span > 2.0 * 86_400.0 {
        t.format("%m-%d").to_string()
    } else {
        t.format("%H:%M").to_string()
    }
}

/// Draws `chart` as an SVG document. No data draws an empty frame that says so.
pub fn render_svg(chart: &Chart) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let (bg, fg, grid) = if chart.dark {
            (rgb("#161d25"), rgb("#dce4ec"), rgb("#2a3542"))
        } else {
            (rgb("#ffffff"), rgb("#17202a"), rgb("#d5dde6"))
        };
        let root = SVGBackend::with_string(&mut svg, (chart.width, chart.height)).into_drawing_area();
        root.fill(&bg).map_err(|e| ChartError::Draw(e.to_string()))?;
        let pts = chart.lines.iter().flat_map(|l| l.points.iter()).filter(|(_, v)| v.is_finite());
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(x, y) in pts {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        let font = ("sans-serif", 12).into_font().color(&fg);
        if x0 > x1 {
            root.draw(&Text::new(format!("{} — no data for this range", chart.title), (12, 20), font.clone()))
                .map_err(|e| ChartError::Draw(e.to_string()))?;
            root.present().map_err(|e| ChartError::Draw(e.to_string()))?;
            drop(root);
            return Ok(svg);
        }
        for g in &chart.guides {
            y0 = y0.min(g.value);
            y1 = y1.max(g.value);
        }
        let (y0, y1) = chart.y_range.unwrap_or_else(|| {
            let pad = ((y1 - y0) * 0.08).max(1e-9);
            (y0 - pad, y1 + pad)
        });
        let x1 = if x1 > x0 { x1 } else { x0 + 1.0 };
        let span = x1 - x0;
        let mut cc = ChartBuilder::on(&root)
            .caption(&chart.title, ("sans-serif", 13).into_font().color(&fg))
            .margin(8)
            .x_label_area_size(22)
            .y_label_area_size(52)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| ChartError::Draw(e.to_string()))?;
        cc.configure_mesh()
            .light_line_style(grid.mix(0.4))
            .bold_line_style(grid)
            .axis_style(grid)
            .label_style(("sans-serif", 11).into_font().color(&fg))
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&|x| time_label(*x, span))
            .y_desc(chart.y_label.as_str())
            .draw()
            .map_err(|e| ChartError::Draw(e.to_string()))?;
        for g in &chart.guides {
            let c = rgb(&g.color);
            cc.draw_series(DashedLineSeries::new(vec![(x0, g.value), (x1, g.value)], 6, 4, c.stroke_width(1)))
                .map_err(|e| ChartError::Draw(e.to_string()))?
                .label(g.name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], c));
        }
        for l in &chart.lines {
            let c = rgb(&l.color);
            let points: Vec<(f64, f64)> = l.points.iter().copied().filter(|(_, v)| v.is_finite()).collect();
            let series = if l.dashed {
                cc.draw_series(DashedLineSeries::new(points, 5, 4, c.stroke_width(1)))
            } else {
                cc.draw_series(LineSeries::new(points, c.stroke_width(2)))
            };
            series
                .map_err(|e| ChartError::Draw(e.to_string()))?
                .label(l.name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], c.stroke_width(2)));
        }
        cc.configure_series_labels()
            .background_style(bg.mix(0.85))
            .border_style(grid)
            .label_font(("sans-serif", 11).into_font().color(&fg))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| ChartError::Draw(e.to_string()))?;
        root.present().map_err(|e| ChartError::Draw(e.to_string()))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(points: Vec<(f64, f64)>) -> Chart {
        Chart {
            title: "Availability SLI".into(),
            y_label: "%".into(),
            lines: vec![Line { name: "SLI".into(), points, color: palette::ACCENT.into(), dashed: false }],
            guides: vec![Guide { name: "objective 99.9 %".into(), value: 99.9, color: palette::WARN.into() }],
            y_range: None,
            width: 640,
            height: 240,
            dark: true,
        }
    }

    #[test]
    fn draws_lines_guides_and_legend() {
        let svg = render_svg(&chart(
            (0..100).map(|i| (1_790_000_000.0 + i as f64 * 60.0, 99.8 + (i % 5) as f64 * 0.05)).collect(),
        ))
        .expect("svg");
        assert!(svg.starts_with("<svg") && svg.contains("</svg>"));
        assert!(svg.contains("Availability SLI") && svg.contains("objective 99.9 %"));
        assert!(svg.matches("<polyline").count() >= 1, "a line is drawn");
    }

    #[test]
    fn empty_range_says_no_data() {
        let svg = render_svg(&chart(vec![])).expect("svg");
        assert!(svg.contains("no data for this range"));
    }
}
