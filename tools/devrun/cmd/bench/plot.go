package main

import (
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// plotCheckout draws latency percentiles and completed throughput against
// the offered rate, for the checkout and the workflow baseline, one PNG
// each, into dir.
func plotCheckout(dir string, steps, baseline []checkoutStep) error {
	series := func(steps []checkoutStep) (p50, p99, done plotter.XYs) {
		for _, st := range steps {
			p50 = append(p50, plotter.XY{X: st.offered, Y: st.pct(50).Seconds() * 1000})
			p99 = append(p99, plotter.XY{X: st.offered, Y: st.pct(99).Seconds() * 1000})
			done = append(done, plotter.XY{X: st.offered, Y: st.throughput()})
		}
		return p50, p99, done
	}
	p50, p99, done := series(steps)
	b50, b99, bdone := series(baseline)
	longer := steps
	if len(baseline) > len(steps) {
		longer = baseline
	}
	var ideal plotter.XYs
	for _, st := range longer {
		ideal = append(ideal, plotter.XY{X: st.offered, Y: st.offered})
	}
	if err := savePlot(filepath.Join(dir, "checkout-latency.png"), "Sent → final state against offered rate", "ms",
		"checkout p50", p50, "checkout p99", p99, "baseline p50", b50, "baseline p99", b99); err != nil {
		return err
	}
	return savePlot(filepath.Join(dir, "checkout-throughput.png"), "Completed against offered rate", "completed /s",
		"checkout", done, "baseline (5 no-op activities)", bdone, "offered", ideal)
}

// savePlot draws named series (name, XYs, name, XYs, ...) against the
// offered rate.
func savePlot(path, title, yLabel string, series ...any) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "offered /s"
	p.Y.Label.Text = yLabel
	if err := plotutil.AddLinePoints(p, series...); err != nil {
		return err
	}
	return p.Save(8*vg.Inch, 4.5*vg.Inch, path)
}
