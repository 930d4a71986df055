# The Debian 12 image of README.md's walkthrough, for tests and benches that
# boot a whole Debian system (source after common.sh).
#   dimg_block NAME   the sh block after <!-- walkthrough:NAME --> in README.md
#   dimg_image        sets DIMG to the cache directory holding deb12.img and
#                     its tree deb12/ (vmlinuz, initrd.img), building them
#                     with the README's image block the first time (cached
#                     in $KEEL_CACHE/walkthrough/ under the hash of the
#                     block's text: a change to the recipe builds it again)

dimg_block() { readme_block "walkthrough:$1"; }

dimg_image() {
	local t
	command -v debootstrap >/dev/null || skip "needs debootstrap (scripts/install-deps installs it)"
	DIMG=$KEEL_CACHE/walkthrough/$(dimg_block image | sha256sum | cut -c1-16)
	[ -f "$DIMG/deb12.img" ] && return 0
	echo "building the Debian image (README's image block) into $DIMG"
	rm -rf "$DIMG.tmp"
	t=$SECONDS
	dimg_block image | sed -e "s|/srv/keel|$DIMG.tmp|g" >"$KEEL_TMP/image.sh"
	bash -e "$KEEL_TMP/image.sh" >"$KEEL_TMP/image.log" 2>&1 || {
		tail -n 30 "$KEEL_TMP/image.log"
		rm -rf "$DIMG.tmp"
		# debootstrap needs the mirror: no network is "cannot run", not a failure of Keel
		grep -q "Failed getting release file\|Couldn't download\|Temporary failure resolving" \
			"$KEEL_TMP/image.log" && skip "debootstrap could not reach the mirror"
		fail "the README's image block failed"
	}
	mv "$DIMG.tmp" "$DIMG"
	echo "image built in $((SECONDS - t)) s"
}
