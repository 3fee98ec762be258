package stress

import (
	"math"
	"slices"
)

// Percentile returns the q-quantile (0 ≤ q ≤ 1) of v by linear interpolation between
// the closest ranks (the "R-7" definition used by NumPy and spreadsheets); 0 for an
// empty v. v is not modified.
func Percentile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return percentileSorted(s, q)
}

func percentileSorted(s []float64, q float64) float64 {
	if len(s) == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	pos := q * float64(len(s)-1)
	i := int(math.Floor(pos))
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	f := pos - float64(i)
	return s[i] + f*(s[i+1]-s[i])
}

// Fit is a least-squares straight line y = Intercept + Slope·x.
type Fit struct {
	Intercept float64 `json:"intercept"`
	Slope     float64 `json:"slope"`
	R2        float64 `json:"r2"` // coefficient of determination (1 for an exact fit or constant y)
	N         int     `json:"n"`  // points used
}

// At returns the fitted y at x.
func (f Fit) At(x float64) float64 { return f.Intercept + f.Slope*x }

// LinearRegression fits y = a + b·x by ordinary least squares over the pairs (x[i],
// y[i]); it uses min(len(x), len(y)) points. With fewer than two points, or all x
// equal, the slope is 0 and the intercept the mean of y.
func LinearRegression(x, y []float64) Fit {
	n := min(len(x), len(y))
	if n == 0 {
		return Fit{}
	}
	var mx, my float64
	for i := range n {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxx, sxy, syy float64
	for i := range n {
		dx, dy := x[i]-mx, y[i]-my
		sxx += dx * dx
		sxy += dx * dy
		syy += dy * dy
	}
	if sxx == 0 {
		return Fit{Intercept: my, R2: 1, N: n}
	}
	b := sxy / sxx
	f := Fit{Intercept: my - b*mx, Slope: b, N: n, R2: 1}
	if syy > 0 {
		f.R2 = sxy * sxy / (sxx * syy)
	}
	return f
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func maxOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return slices.Max(v)
}
