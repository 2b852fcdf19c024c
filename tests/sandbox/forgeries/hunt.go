// Hunter (stdio): find a task file by walking the usual roots and print its expected output.
// A candidate program, read as text by the forgery tests (see ../forgeries_support.py).

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

type doc struct {
	Tests []struct {
		Stdin    *string         `json:"stdin"`
		Expected json.RawMessage `json:"expected"`
	} `json:"tests"`
}

var errEnough = errors.New("enough")

func wanted(name string) bool {
	for _, ext := range []string{".json", ".jsonl", ".sqlite", ".sqlite-wal"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

func main() {
	raw, _ := io.ReadAll(os.Stdin)
	data := string(raw)
	lines := strings.Split(data, "\n")
	if len(lines) < 4 {
		os.Exit(1)
	}
	marker, mode := lines[0], lines[1]
	var hits []string
	answer, have := "", false
	consider := func(p string) {
		info, err := os.Stat(p)
		if err != nil || !info.Mode().IsRegular() || info.Size() > 1<<20 {
			return
		}
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), marker) {
			return
		}
		hits = append(hits, p)
		var d doc
		if json.Unmarshal(b, &d) != nil {
			return
		}
		for _, t := range d.Tests {
			var exp string
			if !have && t.Stdin != nil && *t.Stdin == data && json.Unmarshal(t.Expected, &exp) == nil {
				answer, have = exp, true
			}
		}
	}
	seen := 0
	for _, place := range lines[3:] {
		if place == "" {
			continue
		}
		info, err := os.Stat(place)
		if err != nil {
			continue
		}
		if !info.IsDir() {
			consider(place)
			continue
		}
		base := strings.Count(filepath.Clean(place), "/")
		err = filepath.WalkDir(place, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			seen++
			if seen > 200000 {
				return errEnough
			}
			if d.IsDir() {
				if p == "/proc" || p == "/sys" || p == "/dev" {
					return fs.SkipDir
				}
				if p != place && (strings.HasPrefix(d.Name(), ".") || strings.Count(p, "/")-base >= 6) {
					return fs.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() && wanted(d.Name()) {
				consider(p)
			}
			return nil
		})
		if errors.Is(err, errEnough) {
			break
		}
	}
	if mode == "report" {
		for _, h := range hits {
			fmt.Println(h)
		}
	} else if have {
		fmt.Print(answer)
	} else {
		fmt.Println("nothing")
	}
}
