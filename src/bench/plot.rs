//! The speedup chart: speedup against threads for each phase, with the ideal line, as SVG.
//!
//! Written by hand (about a hundred lines) rather than with a plotting crate: SVG text needs no
//! font files or system libraries, and the chart renders the same on GitHub as in a browser.
//! A PNG is the same SVG rendered by resvg with the machine's fonts (without any, the lines and
//! points still draw, the labels do not), with the `plot-png` feature: resvg and its font
//! stack were a third of a fresh build's time, for a chart few users draw.

use std::fmt::Write as _;

use super::table::PhaseTable;

const WIDTH: f64 = 680.0;
const HEIGHT: f64 = 420.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
/// Named families first: resvg's generic sans-serif is Arial, which many Linux machines lack.
const FONTS: &str = "DejaVu Sans, Liberation Sans, Noto Sans, Arial, Helvetica, sans-serif";
const COLOURS: [&str; 4] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

/// Speedup (y) against threads (x), both on log scales so that perfect scaling (y = x, dashed)
/// is a straight diagonal; one line per phase. For downloads the ideal's speedup (ideal at the
/// fewest threads over ideal at N) is dotted.
pub fn speedup_svg(tables: &[PhaseTable], title: &str) -> String {
    let max_threads = tables
        .iter()
        .flat_map(|t| t.rows.iter().map(|r| r.threads))
        .max()
        .unwrap_or(1)
        .max(2) as f64;
    let speedups = || tables.iter().flat_map(|t| t.rows.iter().map(|r| r.speedup));
    let y_lo = speedups().fold(1.0, f64::min).max(1.0 / 64.0);
    let y_hi = speedups().fold(max_threads, f64::max);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |threads: f64| LEFT + threads.log2() / max_threads.log2() * plot_w;
    let y = |speedup: f64| {
        let s = speedup.clamp(y_lo, y_hi);
        TOP + plot_h - (s / y_lo).log2() / (y_hi / y_lo).log2() * plot_h
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"{FONTS}\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">{}</text>\n",
        LEFT + plot_w / 2.0,
        escape(title)
    );
    // Axes, grid and ticks: powers of two on x, whole speedups on y.
    let _ = writeln!(
        svg,
        "<path d=\"M{LEFT} {TOP} V{} H{}\" stroke=\"black\" fill=\"none\"/>",
        TOP + plot_h,
        LEFT + plot_w
    );
    let mut t = 1.0;
    while t <= max_threads {
        let _ = writeln!(
            svg,
            "<line x1=\"{0}\" y1=\"{TOP}\" x2=\"{0}\" y2=\"{1}\" stroke=\"#eee\"/>\
             <text x=\"{0}\" y=\"{2}\" text-anchor=\"middle\">{3}</text>",
            x(t),
            TOP + plot_h,
            TOP + plot_h + 16.0,
            t
        );
        t *= 2.0;
    }
    let mut s = y_lo.log2().ceil().exp2();
    while s <= y_hi * 1.0001 {
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#eee\"/>\
             <text x=\"{2}\" y=\"{3}\" text-anchor=\"end\">{s}</text>",
            y(s),
            LEFT + plot_w,
            LEFT - 6.0,
            y(s) + 4.0
        );
        s *= 2.0;
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">threads</text>\
         <text transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\">speedup</text>",
        LEFT + plot_w / 2.0,
        HEIGHT - 12.0,
        TOP + plot_h / 2.0
    );
    // y = x: perfect scaling.
    let _ = writeln!(
        svg,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\" stroke-dasharray=\"6 4\"/>",
        x(1.0),
        y(1.0),
        x(max_threads),
        y(max_threads)
    );
    let mut legend = vec![("linear (y = x)".to_string(), "#999", "6 4")];
    for (i, table) in tables.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points: Vec<String> = table
            .rows
            .iter()
            .map(|r| format!("{:.1},{:.1}", x(r.threads as f64), y(r.speedup)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>",
            points.join(" ")
        );
        for p in &points {
            let (px, py) = p.split_once(',').expect("formatted above");
            let _ = writeln!(
                svg,
                "<circle cx=\"{px}\" cy=\"{py}\" r=\"3\" fill=\"{colour}\"/>"
            );
        }
        legend.push((format!("{} (measured)", table.phase), colour, ""));
        let ideal: Vec<(usize, f64)> = table
            .rows
            .iter()
            .filter_map(|r| r.ideal_s.map(|i| (r.threads, i)))
            .collect();
        if let Some(&(_, base)) = ideal.first() {
            let line: Vec<String> = ideal
                .iter()
                .map(|&(t, i)| format!("{:.1},{:.1}", x(t as f64), y(base / i)))
                .collect();
            let _ = writeln!(
                svg,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-dasharray=\"2 3\"/>",
                line.join(" ")
            );
            legend.push((format!("{} (ideal)", table.phase), colour, "2 3"));
        }
    }
    for (i, (label, colour, dash)) in legend.iter().enumerate() {
        let ly = TOP + 10.0 + i as f64 * 18.0;
        let lx = WIDTH - RIGHT + 12.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"2\" \
             stroke-dasharray=\"{dash}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            lx + 20.0,
            lx + 26.0,
            ly + 4.0,
            escape(label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The chart as PNG: the SVG rendered by resvg.
#[cfg(feature = "plot-png")]
pub fn svg_to_png(svg: &str) -> Result<Vec<u8>, String> {
    use resvg::{tiny_skia, usvg};
    let mut options = usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| e.to_string())?;
    let size = tree.size().to_int_size();
    let mut pixmap =
        tiny_skia::Pixmap::new(size.width(), size.height()).ok_or("the chart has no size")?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| e.to_string())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::speedup_svg;
    use crate::bench::table::{PhaseTable, Row};

    fn row(threads: usize, speedup: f64, ideal_s: Option<f64>) -> Row {
        Row {
            threads,
            median_s: 1.0 / speedup,
            min_s: 0.0,
            max_s: 0.0,
            throughput: 0.0,
            speedup,
            efficiency: speedup / threads as f64,
            ideal_s,
        }
    }

    #[test]
    fn chart_has_a_line_per_phase_the_ideal_and_a_legend() {
        let tables = [
            PhaseTable {
                phase: "download",
                unit: "MB/s",
                work: String::new(),
                rows: vec![row(1, 1.0, Some(6.4)), row(8, 7.5, Some(0.8))],
            },
            PhaseTable {
                phase: "resize",
                unit: "MP/s",
                work: String::new(),
                rows: vec![row(1, 1.0, None), row(2, 1.9, None)],
            },
        ];
        let svg = speedup_svg(&tables, "a <test>");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(
            svg.matches("<polyline").count(),
            3,
            "two phases and one ideal"
        );
        assert!(svg.contains("download (ideal)") && svg.contains("resize (measured)"));
        assert!(svg.contains("a &lt;test&gt;"));
        #[cfg(feature = "plot-png")]
        {
            let png = super::svg_to_png(&svg).unwrap();
            let image = image::load_from_memory(&png).unwrap();
            assert_eq!((image.width(), image.height()), (680, 420));
        }
    }
}
