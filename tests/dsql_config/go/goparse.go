// goparse: the parsers the DSQL plugin and the Temporal server use, for the differential test
// (tests/dsql_config/test_config_go_parity.py). stdlib only. Reads lines "<kind> <hex of input>"
// and answers one line each: "ok <value>" or "err". kind: int (strconv.Atoi), bool
// (strconv.ParseBool), duration (time.ParseDuration, value in nanoseconds).
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		kind, encoded, _ := strings.Cut(in.Text(), " ")
		raw, err := hex.DecodeString(encoded)
		if err != nil {
			fmt.Fprintln(out, "bad-input")
			continue
		}
		s := string(raw)
		switch kind {
		case "int":
			if v, err := strconv.Atoi(s); err == nil {
				fmt.Fprintf(out, "ok %d\n", v)
			} else {
				fmt.Fprintln(out, "err")
			}
		case "bool":
			if v, err := strconv.ParseBool(s); err == nil {
				fmt.Fprintf(out, "ok %t\n", v)
			} else {
				fmt.Fprintln(out, "err")
			}
		case "duration":
			if v, err := time.ParseDuration(s); err == nil {
				fmt.Fprintf(out, "ok %d\n", int64(v))
			} else {
				fmt.Fprintln(out, "err")
			}
		default:
			fmt.Fprintln(out, "bad-kind")
		}
		out.Flush() // one answer per question: the test waits for each line
	}
}
