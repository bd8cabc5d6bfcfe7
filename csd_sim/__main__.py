from csd_sim.cli import main

main()
