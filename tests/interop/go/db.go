package main

// The expectations: what the server should answer, worked out here from the
// feature database file on our own, without the server's code.

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
)

const (
	maxLat        = 900000000
	maxLon        = 1800000000
	e7            = 1e7
	earthRadiusM  = 6371000.0
	degreesToRads = math.Pi / 180
)

// loc is an E7 point.
type loc struct{ lat, lon int32 }

// feature is one entry of the database: a name at a location.
type feature struct {
	name string
	at   loc
}

// featureDb is the features file as the contract reads it: a missing name is
// "", a missing coordinate 0, and the first entry wins when a location repeats.
type featureDb struct {
	features []feature
	nameAt   map[loc]string
}

type rawFeature struct {
	Name     *string `json:"name"`
	Location *struct {
		Latitude  *int64 `json:"latitude"`
		Longitude *int64 `json:"longitude"`
	} `json:"location"`
}

func loadDb(path string) (*featureDb, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the feature database: %w", err)
	}
	var raw []rawFeature
	if err := json.Unmarshal(text, &raw); err != nil {
		return nil, fmt.Errorf("%s: expected a JSON array of features: %w", path, err)
	}
	db := &featureDb{nameAt: map[loc]string{}}
	for _, entry := range raw {
		f := feature{}
		if entry.Name != nil {
			f.name = *entry.Name
		}
		if l := entry.Location; l != nil {
			if l.Latitude != nil {
				f.at.lat = int32(*l.Latitude)
			}
			if l.Longitude != nil {
				f.at.lon = int32(*l.Longitude)
			}
		}
		if _, seen := db.nameAt[f.at]; seen {
			continue
		}
		db.nameAt[f.at] = f.name
		db.features = append(db.features, f)
	}
	if len(db.features) == 0 {
		return nil, fmt.Errorf("%s: the feature database is empty", path)
	}
	return db, nil
}

func (db *featureDb) filter(keep func(feature) bool) []feature {
	var out []feature
	for _, f := range db.features {
		if keep(f) {
			out = append(out, f)
		}
	}
	return out
}

func (db *featureDb) named() []feature {
	return db.filter(func(f feature) bool { return f.name != "" })
}

func (db *featureDb) unnamed() []feature {
	return db.filter(func(f feature) bool { return f.name == "" })
}

// within lists the features inside the box with corners a and b (any order), edges included.
func (db *featureDb) within(a, b loc) []feature {
	latLo, latHi := minMax(a.lat, b.lat)
	lonLo, lonHi := minMax(a.lon, b.lon)
	return db.filter(func(f feature) bool {
		return latLo <= f.at.lat && f.at.lat <= latHi && lonLo <= f.at.lon && f.at.lon <= lonHi
	})
}

// freePointNear is a valid point close to p with no feature on it.
func (db *featureDb) freePointNear(p loc) loc {
	for step := int32(1); ; step++ {
		for _, c := range []loc{{p.lat + step, p.lon}, {p.lat - step, p.lon}, {p.lat, p.lon + step}, {p.lat, p.lon - step}} {
			if _, taken := db.nameAt[c]; !taken && valid(c) {
				return c
			}
		}
	}
}

func valid(p loc) bool {
	return abs(int64(p.lat)) <= maxLat && abs(int64(p.lon)) <= maxLon
}

func clamp(p loc) loc {
	return loc{int32(clampInt(int64(p.lat), maxLat)), int32(clampInt(int64(p.lon), maxLon))}
}

func clampInt(v, limit int64) int64 {
	if v > limit {
		return limit
	}
	if v < -limit {
		return -limit
	}
	return v
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func minMax(a, b int32) (int32, int32) {
	if a < b {
		return a, b
	}
	return b, a
}

// haversineM is the great-circle distance in metres between two E7 points.
func haversineM(a, b loc) float64 {
	lat1 := float64(a.lat) / e7 * degreesToRads
	lat2 := float64(b.lat) / e7 * degreesToRads
	dLat := float64(b.lat-a.lat) / e7 * degreesToRads
	dLon := float64(int64(b.lon)-int64(a.lon)) / e7 * degreesToRads
	h := math.Pow(math.Sin(dLat/2), 2) + math.Cos(lat1)*math.Cos(lat2)*math.Pow(math.Sin(dLon/2), 2)
	return 2 * earthRadiusM * math.Atan2(math.Sqrt(h), math.Sqrt(1-h))
}

// spread takes up to n items evenly across the list, in list order.
func spread(items []feature, n int) []feature {
	if len(items) <= n {
		return items
	}
	out := make([]feature, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, items[i*len(items)/n])
	}
	return out
}

// sameFeatures compares two lists as multisets; "" when equal, else what differs.
func sameFeatures(got, want []feature) string {
	count := map[feature]int{}
	for _, f := range want {
		count[f]++
	}
	for _, f := range got {
		count[f]--
	}
	var missing, extra []feature
	for f, n := range count {
		for ; n > 0; n-- {
			missing = append(missing, f)
		}
		for ; n < 0; n++ {
			extra = append(extra, f)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	return fmt.Sprintf("got %d, expected %d; missing %d %v; unexpected or repeated %d %v",
		len(got), len(want), len(missing), head(missing), len(extra), head(extra))
}

func head(fs []feature) []feature {
	if len(fs) > 3 {
		return fs[:3]
	}
	return fs
}
