package main

import (
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// plotCheckout draws latency percentiles and completed throughput against
// the offered rate, one PNG each, into dir.
func plotCheckout(dir string, steps []checkoutStep) error {
	var p50, p99, done, ideal plotter.XYs
	for _, st := range steps {
		p50 = append(p50, plotter.XY{X: st.offered, Y: st.pct(50).Seconds() * 1000})
		p99 = append(p99, plotter.XY{X: st.offered, Y: st.pct(99).Seconds() * 1000})
		done = append(done, plotter.XY{X: st.offered, Y: st.throughput()})
		ideal = append(ideal, plotter.XY{X: st.offered, Y: st.offered})
	}
	if err := savePlot(filepath.Join(dir, "checkout-latency.png"), "Checkout: POST → final state against offered rate", "ms",
		"p50", p50, "p99", p99); err != nil {
		return err
	}
	return savePlot(filepath.Join(dir, "checkout-throughput.png"), "Checkout: completed against offered rate", "completed orders/s",
		"completed", done, "offered", ideal)
}

// savePlot draws named series (name, XYs, name, XYs, ...) against the
// offered rate.
func savePlot(path, title, yLabel string, series ...any) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "offered orders/s"
	p.Y.Label.Text = yLabel
	if err := plotutil.AddLinePoints(p, series...); err != nil {
		return err
	}
	return p.Save(8*vg.Inch, 4.5*vg.Inch, path)
}
