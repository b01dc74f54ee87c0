# kawat -- build, run, test, bench.  `make run` and `make check` are the two
# commands a person needs; everything else is here for developers.

BUILD   ?= build
CC      ?= cc
PKGS    := libuv jansson sqlite3 icu-uc icu-i18n libcmark-gfm libcurl libcrypto libargon2
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Wstrict-prototypes -Wshadow -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN    += -Werror
endif
CFLAGS_COMMON := -std=c17 -D_GNU_SOURCE $(WARN) -Isrc $(PKG_CFLAGS) -MMD -MP
CFLAGS_REL    := -O2 -g
CFLAGS_ASAN   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LIBS    := $(PKG_LIBS) -lhttp_parser -lcmark-gfm-extensions -lwslay -lpthread -lm

SRCS    := $(shell find src -name '*.c' ! -name main.c | sort)
UNIT_SRCS := $(sort $(wildcard tests/unit/*_test.c))

REL_OBJS  := $(SRCS:%.c=$(BUILD)/rel/%.o)
ASAN_OBJS := $(SRCS:%.c=$(BUILD)/asan/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/asan/unit/%)

PY      := /usr/bin/python3
PORT    ?= 8080
DATA    ?= var

.PHONY: all asan unit deps run check e2e browser bench fuzz clean format

all: $(BUILD)/kawat

asan: $(BUILD)/asan/kawat

deps:
	@sh scripts/deps.sh

$(BUILD)/kawat: $(REL_OBJS) $(BUILD)/rel/src/main.o
	$(CC) -o $@ $^ $(LIBS)

$(BUILD)/asan/kawat: $(ASAN_OBJS) $(BUILD)/asan/src/main.o
	$(CC) $(CFLAGS_ASAN) -o $@ $^ $(LIBS)

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS_REL) -c -o $@ $<

$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS_ASAN) -c -o $@ $<

# Unit tests link the sanitizer build of every module but main.
$(BUILD)/asan/libkawat.a: $(ASAN_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/asan/unit/%: tests/unit/%.c $(BUILD)/asan/libkawat.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS_ASAN) -o $@ $< $(BUILD)/asan/libkawat.a $(LIBS) -lcmocka

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

e2e: $(BUILD)/asan/kawat
	KAWAT_BIN=$(CURDIR)/$(BUILD)/asan/kawat $(PY) -m pytest -q tests/e2e

browser: $(BUILD)/asan/kawat
	KAWAT_BIN=$(CURDIR)/$(BUILD)/asan/kawat node tests/browser/run.mjs
	KAWAT_BIN=$(CURDIR)/$(BUILD)/asan/kawat node tests/browser/stream.mjs
	KAWAT_BIN=$(CURDIR)/$(BUILD)/asan/kawat node tests/browser/portal.mjs
	KAWAT_BIN=$(CURDIR)/$(BUILD)/asan/kawat node tests/browser/accounts.mjs
	KAWAT_BIN=$(CURDIR)/$(BUILD)/asan/kawat node tests/browser/self_service.mjs
	KAWAT_BIN=$(CURDIR)/$(BUILD)/asan/kawat node tests/browser/walk.mjs
	KAWAT_BIN=$(CURDIR)/$(BUILD)/asan/kawat node tests/browser/desk.mjs

# The one command that proves the tree: deps, -Werror release build, the
# sanitizer build, then unit, end-to-end and browser tests against it.
check: deps
	$(MAKE) --no-print-directory WERROR=1 all
	$(MAKE) --no-print-directory WERROR=1 asan
	$(MAKE) --no-print-directory WERROR=1 unit
	$(MAKE) --no-print-directory e2e
	$(MAKE) --no-print-directory browser

# Installs what is missing, builds, loads the demo content once and serves.
run: deps
	$(MAKE) --no-print-directory all
	./$(BUILD)/kawat serve --listen 127.0.0.1:$(PORT) --data $(DATA) --demo

bench: deps all
	sh bench/run.sh $(CURDIR)/$(BUILD)/kawat
	sh bench/webhooks.sh $(CURDIR)/$(BUILD)/kawat
	sh bench/mail.sh $(CURDIR)/$(BUILD)/kawat

# Coverage-guided fuzzing of the parsers (libFuzzer is clang's). Not part of
# `make check`: run it after changing a parser. FUZZ_TIME seconds each.
FUZZ_TIME ?= 60
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc
FUZZ_ICU := $(shell pkg-config --cflags --libs jansson icu-uc icu-i18n 2>/dev/null)

fuzz:
	@mkdir -p $(BUILD)/fuzz/corpus_frontmatter $(BUILD)/fuzz/corpus_query $(BUILD)/fuzz/corpus_release
	clang $(FUZZ_CFLAGS) -o $(BUILD)/fuzz/fuzz_frontmatter tests/fuzz/fuzz_frontmatter.c \
		src/core/core_frontmatter.c src/core/core_buf.c $(shell pkg-config --cflags --libs jansson)
	clang $(FUZZ_CFLAGS) -o $(BUILD)/fuzz/fuzz_query tests/fuzz/fuzz_query.c src/net/net_query.c \
		src/core/core_buf.c
	clang $(FUZZ_CFLAGS) -o $(BUILD)/fuzz/fuzz_release tests/fuzz/fuzz_release.c \
		src/core/core_release.c src/core/core_lang.c src/core/core_region.c src/core/core_time.c \
		src/core/core_buf.c $(FUZZ_ICU)
	@[ -n "$$(ls $(BUILD)/fuzz/corpus_frontmatter)" ] || cp demo/*.md $(BUILD)/fuzz/corpus_frontmatter/
	@mkdir -p $(BUILD)/fuzz/corpus_ws $(BUILD)/fuzz/corpus_filter
	clang $(FUZZ_CFLAGS) -o $(BUILD)/fuzz/fuzz_filter tests/fuzz/fuzz_filter.c \
		src/match/match_filter.c src/match/match_text.c src/match/match_index.c \
		src/core/core_release.c src/core/core_lang.c src/core/core_region.c src/core/core_time.c \
		src/core/core_buf.c $(FUZZ_ICU)
	clang $(FUZZ_CFLAGS) $(shell pkg-config --cflags libuv jansson) -o $(BUILD)/fuzz/fuzz_ws \
		tests/fuzz/fuzz_ws.c src/net/stream_ws.c src/core/core_buf.c -lwslay -lcrypto
	@[ -n "$$(ls $(BUILD)/fuzz/corpus_ws)" ] || { \
		printf '\003\021\042\063\104\201\205\067\372\041\075\177\237\115\121\130' > $(BUILD)/fuzz/corpus_ws/seed_text; \
		printf '\007\005\006\007\010\001\203\000\000\000\000Hel\211\202\000\000\000\000hi\200\202\000\000\000\000lo\212\200\000\000\000\000\210\202\000\000\000\000\003\351' > $(BUILD)/fuzz/corpus_ws/seed_frag; }
	@set -e; for f in frontmatter query release ws filter; do \
		echo "== fuzz_$$f ($(FUZZ_TIME) s)"; \
		ASAN_OPTIONS=detect_leaks=1 $(BUILD)/fuzz/fuzz_$$f -max_total_time=$(FUZZ_TIME) \
			-max_len=4096 $(BUILD)/fuzz/corpus_$$f; \
	done

format:
	clang-format -i $$(find src tests -name '*.[ch]')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
