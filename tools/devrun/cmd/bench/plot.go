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
	lat := plot.New()
	lat.Title.Text = "Checkout: POST → final state against offered rate"
	lat.X.Label.Text = "offered orders/s"
	lat.Y.Label.Text = "ms"
	if err := plotutil.AddLinePoints(lat, "p50", p50, "p99", p99); err != nil {
		return err
	}
	if err := lat.Save(8*vg.Inch, 4.5*vg.Inch, filepath.Join(dir, "checkout-latency.png")); err != nil {
		return err
	}
	thr := plot.New()
	thr.Title.Text = "Checkout: completed against offered rate"
	thr.X.Label.Text = "offered orders/s"
	thr.Y.Label.Text = "completed orders/s"
	if err := plotutil.AddLinePoints(thr, "completed", done, "offered", ideal); err != nil {
		return err
	}
	return thr.Save(8*vg.Inch, 4.5*vg.Inch, filepath.Join(dir, "checkout-throughput.png"))
}
