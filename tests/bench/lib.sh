# Helpers for benchmarks (source this file).
# bench_report NAME VALUE UNIT BASELINE_NAME BASELINE_VALUE [higher|lower]
#   prints the figure beside its same-run baseline and the ratio VALUE/BASE.
#   The last word says which direction is better (for the reader; default lower).
bench_report() {
	local name=$1 value=$2 unit=$3 bname=$4 bvalue=$5 better=${6:-lower}
	awk -v n="$name" -v v="$value" -v u="$unit" -v bn="$bname" -v bv="$bvalue" -v b="$better" \
		'BEGIN { r = (bv != 0) ? v / bv : 0;
			 printf "bench %s: %.4g %s  baseline %s: %.4g %s  ratio %.3f (%s is better)\n",
				n, v, u, bn, bv, u, r, b }'
}
