from v6lint.replay import main

main()
