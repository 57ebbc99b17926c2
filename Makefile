# ukfork build: the guest runtime (freestanding C, embedded into the binary)
# and bin/ukfork. `make test` runs everything CI runs.

GO        ?= $(shell command -v go || echo /usr/local/go/bin/go)
# Tests run `go tool cgo` themselves: the same go must be on PATH.
export PATH := $(dir $(GO)):$(PATH)
CC        ?= gcc
MUSLCC    ?= musl-gcc
BUILD     := guest/build
RUNTIME   := $(BUILD)/runtime.elf

GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-builtin \
	-fno-stack-protector -fno-pic -fno-pie -mgeneral-regs-only -mno-red-zone \
	-fno-asynchronous-unwind-tables -fno-omit-frame-pointer -mfsgsbase \
	-Iguest/include -Ilibc-shim
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,--no-warn-rwx-segments -Wl,-T,guest/runtime.ld

GUEST_SRCS := $(wildcard guest/kvm/*.S guest/boot/*.c guest/mm/*.c guest/rewrite/*.c libc-shim/*.c)
GUEST_OBJS := $(patsubst %,$(BUILD)/%.o,$(GUEST_SRCS))
GUEST_HDRS := $(wildcard guest/include/ukfork/*.h libc-shim/*.h) libc-shim/zsyscalls.h

GO_SRCS := $(shell find . -name '*.go' -not -path './tests/apps/*') go.mod

.PHONY: all runtime test test-apps bench clean demo
all: bin/ukfork

runtime: $(RUNTIME)

# One list of syscalls makes the guest's dispatch table, the host's names and
# the table in docs/syscalls.md (all checked in; a test fails if they are stale).
SYSCALL_GEN := libc-shim/zsyscalls.h hypervisor/hcall/zsysnames.go docs/syscalls.md
$(SYSCALL_GEN) &: libc-shim/syscalls.tsv $(wildcard libc-shim/syscalls/*.go libc-shim/syscalls/mksyscalls/*.go)
	$(GO) run ./libc-shim/syscalls/mksyscalls

$(BUILD)/%.c.o: %.c $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/%.S.o: %.S $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

# runtime.debug.elf keeps the symbols for gdb; images carry the stripped copy.
$(RUNTIME): $(GUEST_OBJS) guest/runtime.ld
	@echo "  LD      $@"
	@$(CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $(BUILD)/runtime.debug.elf $(GUEST_OBJS) -lgcc
	@objcopy --strip-all $(BUILD)/runtime.debug.elf $@

# Static (no cgo): a dynamic Go binary costs ~3 ms more at every start here
# (the loader and libc), which is most of a short `ukfork run`.
bin/ukfork: $(RUNTIME) $(GO_SRCS)
	CGO_ENABLED=0 $(GO) build -o $@ ./cmd/ukfork

clean:
	rm -rf bin $(BUILD)/guest $(BUILD)/libc-shim $(RUNTIME) tests/apps/build

# Test programs: every app under tests/apps built with musl and with glibc,
# plus a static-PIE build, each compared with its native run by tests/.
APPS      := $(basename $(notdir $(wildcard tests/apps/*.c)))
APPDIR    := tests/apps/build
APP_BINS  := $(APPS:%=$(APPDIR)/musl/%) $(APPS:%=$(APPDIR)/glibc/%) $(APPS:%=$(APPDIR)/dyn/%) \
	$(APPDIR)/pie/hello $(APPDIR)/pie/vmem
APP_CFLAGS := -O2 -Wall -Wno-unused-result

$(APPDIR)/musl/%: tests/apps/%.c
	@mkdir -p $(dir $@)
	$(MUSLCC) -static $(APP_CFLAGS) -o $@ $<

$(APPDIR)/glibc/%: tests/apps/%.c
	@mkdir -p $(dir $@)
	$(CC) -static $(APP_CFLAGS) -o $@ $<

# dyn: the way distributions build, a dynamic PIE against glibc.
$(APPDIR)/dyn/%: tests/apps/%.c
	@mkdir -p $(dir $@)
	$(CC) $(APP_CFLAGS) -o $@ $< -ldl

$(APPDIR)/pie/%: tests/apps/%.c
	@mkdir -p $(dir $@)
	$(CC) -static-pie -fPIE $(APP_CFLAGS) -o $@ $<

test-apps: $(APP_BINS)

# Packages tested without /dev/kvm-hungry end-to-end runs: under the race
# detector. A race-built ukfork then runs the multi-process part of tests/.
UNIT_PKGS := $(shell $(GO) list ./... | grep -v /tests$$)
RACE_TESTS := TestFork$$|TestPipeRings|TestBusyboxShell|TestForkRacingExit|TestInterrupt|TestPsKill|TestStartRaces|TestFDBudget

bin/ukfork-race: $(RUNTIME) $(GO_SRCS)
	$(GO) build -race -o $@ ./cmd/ukfork

# The whole suite: unit tests, native-vs-ukfork comparisons, a short fuzz run.
test: bin/ukfork bin/ukfork-race test-apps
	$(GO) vet ./...
	$(GO) test -race -count=1 $(UNIT_PKGS)
	$(GO) test -count=1 ./tests
	UKFORK_BIN=$(CURDIR)/bin/ukfork-race $(GO) test -count=1 -run '$(RACE_TESTS)' ./tests
	$(GO) test -run '^$$' -fuzz FuzzDispatch -fuzztime 20s ./hypervisor/hcall

bench: bin/ukfork test-apps
	./bin/ukfork bake -o $(APPDIR)/hello.img $(APPDIR)/musl/hello
	./bin/ukfork bench boot $(APPDIR)/hello.img
	./bin/ukfork bake --mem 64M -o $(APPDIR)/forkbench.img $(APPDIR)/musl/forkbench
	./bin/ukfork bench compare $(APPDIR)/forkbench.img 200 8
	./bin/ukfork bake --mem 64M -o $(APPDIR)/pipebench.img $(APPDIR)/musl/pipebench
	./bin/ukfork bench compare $(APPDIR)/pipebench.img 64
	./bin/ukfork bake --mem 64M -o $(APPDIR)/killbench.img $(APPDIR)/musl/killbench
	./bin/ukfork bench compare $(APPDIR)/killbench.img 500
	./bin/ukfork bake --mem 256M -o $(APPDIR)/mmbench.img $(APPDIR)/musl/mmbench
	./bin/ukfork bench compare $(APPDIR)/mmbench.img 200
	tests/bench/children.sh 1000
	tests/bench/python.sh 20 30
	tests/bench/httpd.sh 2000 16
	tests/bench/nginx.sh 3000 16
	tests/bench/pgbench.sh 10 8

# The README's demo: bake a sample program and run it.
demo: bin/ukfork $(APPDIR)/musl/hello
	./bin/ukfork bake -o $(APPDIR)/hello.img $(APPDIR)/musl/hello
	./bin/ukfork run $(APPDIR)/hello.img
