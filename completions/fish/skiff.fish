# fish completion for skiff(8).  Installed as
# $(datadir)/fish/vendor_completions.d/skiff.fish.
#
# Commands are offered with -n __skiff_no_command, global flags the same way,
# and each command's flags with -n '__skiff_flags_of COMMAND':
# tests/functional/test_docs_sync.py checks them against --help.

# The words before the cursor, without `skiff` itself.
function __skiff_tokens
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -q tokens[1]; and printf '%s\n' $tokens
end

# Print the command of the line (the first word that is neither a global flag
# nor the value of one); fail when there is none yet.
function __skiff_command
    set -l skip 0
    for t in (__skiff_tokens)
        if test $skip = 1
            set skip 0
            continue
        end
        switch $t
            case --root --log --log-format
                set skip 1
            case '-*'
            case '*'
                echo $t
                return 0
        end
    end
    return 1
end

function __skiff_no_command
    not __skiff_command >/dev/null
end

function __skiff_using_command
    set -l cmd (__skiff_command); or return 1
    contains -- $cmd $argv
end

# The flags of a command that take a value in the next word.
function __skiff_value_flags
    switch $argv[1]
        case check
            printf '%s\n' -b --bundle -f --format
        case create run
            printf '%s\n' -b --bundle --pid-file --console-socket --pidfd-socket --preserve-fds
        case exec
            printf '%s\n' -p --process --console-socket --pidfd-socket --pid-file -e --env --cwd \
                -u --user -g --additional-gids -c --cap --preserve-fds --process-label --apparmor \
                --cgroup
        case list
            printf '%s\n' -f --format
        case spec
            printf '%s\n' -b --bundle
        case events
            printf '%s\n' --interval
        case ps
            printf '%s\n' -f --format
        case update
            printf '%s\n' -r --resources --memory --memory-reservation --memory-swap --kernel-memory --kernel-memory-tcp \
                --cpu-shares --cpu-share --cpu-period --cpu-quota --cpu-burst --cpu-rt-period \
                --cpu-rt-runtime --cpu-idle --cpuset-cpus --cpuset-mems --pids-limit --blkio-weight \
                --l3-cache-schema --mem-bw-schema
    end
end

# True when exactly N arguments follow the command: flags and their values
# are not arguments, and everything after the first argument is one.
function __skiff_nargs_is
    set -l n 0
    set -l cmd
    set -l value_flags
    set -l skip 0
    for t in (__skiff_tokens)
        if test $skip = 1
            set skip 0
            continue
        end
        if test -z "$cmd"
            switch $t
                case --root --log --log-format
                    set skip 1
                case '-*'
                case '*'
                    set cmd $t
                    set value_flags (__skiff_value_flags $cmd)
            end
            continue
        end
        if test $n = 0; and test "$t" = --
            set n 1
        else if test $n = 0; and contains -- $t $value_flags
            set skip 1
        else if test $n -gt 0; or not string match -q -- '-*' $t
            set n (math $n + 1)
        end
    end
    test $n = $argv[1]
end

# Flags are completed only before the first argument: skiff stops parsing
# them there.
function __skiff_flags_of
    __skiff_using_command $argv; and __skiff_nargs_is 0
end

# The ids of the containers in the state directory in use: that of a --root
# given before the command, else skiff's default.
function __skiff_ids
    set -l bin (commandline -opc)[1]
    command -q $bin; or set bin skiff
    set -l root
    set -l tokens (__skiff_tokens)
    set -l i 1
    while test $i -le (count $tokens)
        set -l t $tokens[$i]
        switch $t
            case --root
                set -l j (math $i + 1)
                set root --root $tokens[$j]
            case '--root=*'
                set root --root (string replace -- --root= '' $t)
            case --log --log-format
                set i (math $i + 1)
            case '-*'
            case '*'
                break
        end
        set i (math $i + 1)
    end
    if set -q root[2]
        set root[2] (string replace -r '^~' $HOME -- $root[2])
    end
    $bin $root list -q 2>/dev/null
end

function __skiff_signals
    set -l sigs HUP INT QUIT ILL TRAP ABRT IOT BUS FPE KILL USR1 SEGV USR2 PIPE \
        ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF \
        WINCH IO POLL PWR SYS RTMIN RTMAX
    if string match -qir '^sig' -- (commandline -ct)
        printf 'SIG%s\n' $sigs
    else
        printf '%s\n' $sigs
    end
end

complete -c skiff -e
complete -c skiff -f

# ---------------------------------------------------------------- commands
complete -c skiff -n __skiff_no_command -a check -d 'validate a bundle and explain what is wrong with it'
complete -c skiff -n __skiff_no_command -a create -d 'create a container'
complete -c skiff -n __skiff_no_command -a delete -d 'delete a container and everything it holds'
complete -c skiff -n __skiff_no_command -a events -d 'show resource usage and OOM events of a container as JSON'
complete -c skiff -n __skiff_no_command -a exec -d 'run a process inside a running container'
complete -c skiff -n __skiff_no_command -a features -d 'show what this runtime and host support'
complete -c skiff -n __skiff_no_command -a kill -d "send a signal to a container's init"
complete -c skiff -n __skiff_no_command -a list -d 'list containers'
complete -c skiff -n __skiff_no_command -a pause -d 'suspend every process of a container'
complete -c skiff -n __skiff_no_command -a ps -d 'show the processes of a container'
complete -c skiff -n __skiff_no_command -a resume -d 'resume a paused container'
complete -c skiff -n __skiff_no_command -a run -d 'create and start a container'
complete -c skiff -n __skiff_no_command -a spec -d 'write a default config.json'
complete -c skiff -n __skiff_no_command -a start -d 'start a created container'
complete -c skiff -n __skiff_no_command -a state -d 'print the state of a container as JSON'
complete -c skiff -n __skiff_no_command -a update -d 'change the resource limits of a container'

# ------------------------------------------------------------ global flags
complete -c skiff -n __skiff_no_command -l root -x -a '(__fish_complete_directories (commandline -ct))' -d 'state directory'
complete -c skiff -n __skiff_no_command -l log -r -F -d 'write log messages to FILE'
complete -c skiff -n __skiff_no_command -l log-format -x -a 'text json' -d 'log format'
complete -c skiff -n __skiff_no_command -l debug -d 'log debug messages, including phase timings'
complete -c skiff -n __skiff_no_command -l systemd-cgroup -d 'manage cgroups through systemd'
complete -c skiff -n __skiff_no_command -l rootless -d 'run rootless: --rootless=true|false|auto'
complete -c skiff -n '__skiff_no_command; and string match -q -- "--rootless=*" (commandline -ct)' -x -a '--rootless=true --rootless=false --rootless=auto'
complete -c skiff -n __skiff_no_command -s h -l help -d 'show the help'
complete -c skiff -n __skiff_no_command -s v -l version -d 'show version and enabled features'

# ------------------------------------------------------------------- check
complete -c skiff -n '__skiff_flags_of check' -s h -l help -d 'show the options of check'
complete -c skiff -n '__skiff_flags_of check' -s b -l bundle -x -a '(__fish_complete_directories (commandline -ct))' -d 'bundle directory'
complete -c skiff -n '__skiff_flags_of check' -s f -l format -x -a 'text json' -d 'output format of the diagnostics'
complete -c skiff -n '__skiff_flags_of check' -s p -l plan -d 'print the setup plan instead of the diagnostics'

# ------------------------------------------------------------------ create
complete -c skiff -n '__skiff_flags_of create' -s h -l help -d 'show the options of create'
complete -c skiff -n '__skiff_flags_of create' -s b -l bundle -x -a '(__fish_complete_directories (commandline -ct))' -d 'bundle directory'
complete -c skiff -n '__skiff_flags_of create' -l pid-file -r -F -d "write the container's pid to FILE"
complete -c skiff -n '__skiff_flags_of create' -l console-socket -r -F -d "unix socket that receives the terminal's master fd"
complete -c skiff -n '__skiff_flags_of create' -l pidfd-socket -r -F -d 'unix socket that receives a pidfd of the process'
complete -c skiff -n '__skiff_flags_of create' -l preserve-fds -x -d 'pass N extra fds (from 3) to the container'
complete -c skiff -n '__skiff_flags_of create' -l no-pivot -d 'use MS_MOVE + chroot instead of pivot_root'
complete -c skiff -n '__skiff_flags_of create' -l no-new-keyring -d "keep the caller's session keyring"

# ------------------------------------------------------------------ delete
complete -c skiff -n '__skiff_flags_of delete' -s h -l help -d 'show the options of delete'
complete -c skiff -n '__skiff_flags_of delete' -s f -l force -d 'kill a running container first'
complete -c skiff -n '__skiff_using_command delete; and __skiff_nargs_is 0' -a '(__skiff_ids)' -d container

# ------------------------------------------------------------------ events
complete -c skiff -n '__skiff_flags_of events' -s h -l help -d 'show the options of events'
complete -c skiff -n '__skiff_flags_of events' -l stats -d 'print one stats event and exit'
complete -c skiff -n '__skiff_flags_of events' -l interval -x -a '1s 5s 30s 1m 500ms' -d 'time between stats events'
complete -c skiff -n '__skiff_using_command events; and __skiff_nargs_is 0' -a '(__skiff_ids)' -d container

# -------------------------------------------------------------------- exec
complete -c skiff -n '__skiff_flags_of exec' -s h -l help -d 'show the options of exec'
complete -c skiff -n '__skiff_flags_of exec' -s p -l process -r -F -d 'process.json to run instead of COMMAND'
complete -c skiff -n '__skiff_flags_of exec' -s t -l tty -d 'allocate a terminal'
complete -c skiff -n '__skiff_flags_of exec' -l console-socket -r -F -d "unix socket that receives the terminal's master fd"
complete -c skiff -n '__skiff_flags_of exec' -l pidfd-socket -r -F -d 'unix socket that receives a pidfd of the process'
complete -c skiff -n '__skiff_flags_of exec' -s d -l detach -d 'do not wait for the process'
complete -c skiff -n '__skiff_flags_of exec' -l pid-file -r -F -d "write the process's pid to FILE"
complete -c skiff -n '__skiff_flags_of exec' -s e -l env -x -d 'add an environment variable VAR=VALUE'
complete -c skiff -n '__skiff_flags_of exec' -l cwd -x -d 'working directory inside the container'
complete -c skiff -n '__skiff_flags_of exec' -s u -l user -x -d 'run as UID[:GID]'
complete -c skiff -n '__skiff_flags_of exec' -s g -l additional-gids -x -d 'add a supplementary group'
complete -c skiff -n '__skiff_flags_of exec' -s c -l cap -x -a 'CAP_AUDIT_CONTROL CAP_AUDIT_READ CAP_AUDIT_WRITE CAP_BLOCK_SUSPEND CAP_BPF CAP_CHECKPOINT_RESTORE CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_IPC_LOCK CAP_IPC_OWNER CAP_KILL CAP_LEASE CAP_LINUX_IMMUTABLE CAP_MAC_ADMIN CAP_MAC_OVERRIDE CAP_MKNOD CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_NET_RAW CAP_PERFMON CAP_SETFCAP CAP_SETGID CAP_SETPCAP CAP_SETUID CAP_SYSLOG CAP_SYS_ADMIN CAP_SYS_BOOT CAP_SYS_CHROOT CAP_SYS_MODULE CAP_SYS_NICE CAP_SYS_PACCT CAP_SYS_PTRACE CAP_SYS_RAWIO CAP_SYS_RESOURCE CAP_SYS_TIME CAP_SYS_TTY_CONFIG CAP_WAKE_ALARM' -d 'add a capability'
complete -c skiff -n '__skiff_flags_of exec' -l no-new-privs -d 'set no_new_privs'
complete -c skiff -n '__skiff_flags_of exec' -l preserve-fds -x -d 'pass N extra fds (from 3)'
complete -c skiff -n '__skiff_flags_of exec' -l process-label -x -d 'SELinux label of the process'
complete -c skiff -n '__skiff_flags_of exec' -l apparmor -x -d 'AppArmor profile of the process'
complete -c skiff -n '__skiff_flags_of exec' -l cgroup -x -d "run in this sub-cgroup of the container's ([CONTROLLER:]PATH)"
complete -c skiff -n '__skiff_flags_of exec' -l ignore-paused -d 'exec into a paused container'
complete -c skiff -n '__skiff_using_command exec; and __skiff_nargs_is 0' -a '(__skiff_ids)' -d container

# -------------------------------------------------------------- features
complete -c skiff -n '__skiff_flags_of features' -s h -l help -d 'show the options of features'

# -------------------------------------------------------------------- kill
complete -c skiff -n '__skiff_flags_of kill' -s h -l help -d 'show the options of kill'
complete -c skiff -n '__skiff_flags_of kill' -s a -l all -d 'signal every process of the container'
complete -c skiff -n '__skiff_using_command kill; and __skiff_nargs_is 0' -a '(__skiff_ids)' -d container
complete -c skiff -n '__skiff_using_command kill; and __skiff_nargs_is 1' -a '(__skiff_signals)' -d signal

# -------------------------------------------------------------------- list
complete -c skiff -n '__skiff_flags_of list' -s h -l help -d 'show the options of list'
complete -c skiff -n '__skiff_flags_of list' -s f -l format -x -a 'table json' -d 'output format'
complete -c skiff -n '__skiff_flags_of list' -s q -l quiet -d 'print only the ids'

# ------------------------------------------------------------------- pause
complete -c skiff -n '__skiff_flags_of pause' -s h -l help -d 'show the options of pause'
complete -c skiff -n '__skiff_using_command pause; and __skiff_nargs_is 0' -a '(__skiff_ids)' -d container

# ---------------------------------------------------------------------- ps
complete -c skiff -n '__skiff_flags_of ps' -s h -l help -d 'show the options of ps'
complete -c skiff -n '__skiff_flags_of ps' -s f -l format -x -a 'table json' -d 'output format'
complete -c skiff -n '__skiff_using_command ps; and __skiff_nargs_is 0' -a '(__skiff_ids)' -d container

# ------------------------------------------------------------------ resume
complete -c skiff -n '__skiff_flags_of resume' -s h -l help -d 'show the options of resume'
complete -c skiff -n '__skiff_using_command resume; and __skiff_nargs_is 0' -a '(__skiff_ids)' -d container

# --------------------------------------------------------------------- run
complete -c skiff -n '__skiff_flags_of run' -s h -l help -d 'show the options of run'
complete -c skiff -n '__skiff_flags_of run' -s b -l bundle -x -a '(__fish_complete_directories (commandline -ct))' -d 'bundle directory'
complete -c skiff -n '__skiff_flags_of run' -s d -l detach -d 'return once the container runs'
complete -c skiff -n '__skiff_flags_of run' -l keep -d 'keep the stopped container (no delete)'
complete -c skiff -n '__skiff_flags_of run' -l no-subreaper -d "do not adopt the container's orphans"
complete -c skiff -n '__skiff_flags_of run' -l pid-file -r -F -d "write the container's pid to FILE"
complete -c skiff -n '__skiff_flags_of run' -l console-socket -r -F -d "unix socket that receives the terminal's master fd"
complete -c skiff -n '__skiff_flags_of run' -l pidfd-socket -r -F -d 'unix socket that receives a pidfd of the process'
complete -c skiff -n '__skiff_flags_of run' -l preserve-fds -x -d 'pass N extra fds (from 3) to the container'
complete -c skiff -n '__skiff_flags_of run' -l no-pivot -d 'use MS_MOVE + chroot instead of pivot_root'
complete -c skiff -n '__skiff_flags_of run' -l no-new-keyring -d "keep the caller's session keyring"

# -------------------------------------------------------------------- spec
complete -c skiff -n '__skiff_flags_of spec' -s h -l help -d 'show the options of spec'
complete -c skiff -n '__skiff_flags_of spec' -s b -l bundle -x -a '(__fish_complete_directories (commandline -ct))' -d 'bundle directory'
complete -c skiff -n '__skiff_flags_of spec' -l rootless -d 'a config for an unprivileged user'

# ------------------------------------------------------------------- start
complete -c skiff -n '__skiff_flags_of start' -s h -l help -d 'show the options of start'
complete -c skiff -n '__skiff_using_command start; and __skiff_nargs_is 0' -a '(__skiff_ids)' -d container

# ------------------------------------------------------------------- state
complete -c skiff -n '__skiff_flags_of state' -s h -l help -d 'show the options of state'
complete -c skiff -n '__skiff_using_command state; and __skiff_nargs_is 0' -a '(__skiff_ids)' -d container

# ------------------------------------------------------------------ update
complete -c skiff -n '__skiff_flags_of update' -s h -l help -d 'show the options of update'
complete -c skiff -n '__skiff_flags_of update' -s r -l resources -r -F -d 'LinuxResources JSON file (- for standard input)'
complete -c skiff -n '__skiff_flags_of update' -l memory -x -d 'memory limit (k, m, g, t suffixes; -1: none)'
complete -c skiff -n '__skiff_flags_of update' -l memory-reservation -x -d 'memory soft limit'
complete -c skiff -n '__skiff_flags_of update' -l memory-swap -x -d 'memory plus swap limit (-1: unlimited swap)'
complete -c skiff -n '__skiff_flags_of update' -l kernel-memory -x -d 'obsolete; ignored by the kernel'
complete -c skiff -n '__skiff_flags_of update' -l kernel-memory-tcp -x -d 'kernel TCP buffer limit (cgroup v1 only)'
complete -c skiff -n '__skiff_flags_of update' -l cpu-shares -x -d 'CPU shares, relative weight'
complete -c skiff -n '__skiff_flags_of update' -l cpu-share -x -d 'same as --cpu-shares'
complete -c skiff -n '__skiff_flags_of update' -l cpu-period -x -d 'CFS period in microseconds'
complete -c skiff -n '__skiff_flags_of update' -l cpu-quota -x -d 'CFS quota per period in microseconds (-1: no limit)'
complete -c skiff -n '__skiff_flags_of update' -l cpu-burst -x -d 'CFS burst in microseconds'
complete -c skiff -n '__skiff_flags_of update' -l cpu-rt-period -x -d 'realtime period (cgroup v1 only)'
complete -c skiff -n '__skiff_flags_of update' -l cpu-rt-runtime -x -d 'realtime runtime per period (cgroup v1 only)'
complete -c skiff -n '__skiff_flags_of update' -l cpu-idle -x -a '0 1' -d '1: SCHED_IDLE cgroup (cpu.idle)'
complete -c skiff -n '__skiff_flags_of update' -l cpuset-cpus -x -d 'CPUs to run on, e.g. 0-2,4'
complete -c skiff -n '__skiff_flags_of update' -l cpuset-mems -x -d 'memory nodes to use, e.g. 0'
complete -c skiff -n '__skiff_flags_of update' -l pids-limit -x -d 'maximum number of processes (-1: none)'
complete -c skiff -n '__skiff_flags_of update' -l blkio-weight -x -d 'block I/O weight, 10 to 1000'
complete -c skiff -n '__skiff_flags_of update' -l l3-cache-schema -x -d 'Intel RDT/CAT L3 cache schema (linux.intelRdt)'
complete -c skiff -n '__skiff_flags_of update' -l mem-bw-schema -x -d 'Intel RDT/MBA memory bandwidth schema (linux.intelRdt)'
complete -c skiff -n '__skiff_using_command update; and __skiff_nargs_is 0' -a '(__skiff_ids)' -d container
